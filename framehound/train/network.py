"""A trainable Darknet network: the inference plan of ``darknet.torch_model`` with real batch norm.

The layers, routes, pooling and [yolo] decoding are the inference network's own
(``plan_layers``, ``DarknetNet``); only each [convolutional] becomes a
``TrainConv`` that keeps conv, batch norm and activation apart, so batch norm
learns and its running statistics can be written back in Darknet's layout.
The convolutions feeding the [yolo] layers are resized to the dataset's
classes and start fresh; every other layer starts from the pretrained weights.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from framehound.darknet.cfg import parse_cfg
from framehound.darknet.layers import BN_EPS, ConvSpec, head_conv_indices, resize_head
from framehound.darknet.torch_model import DarknetNet, activation, conv_weights, plan_layers
from framehound.errors import FramehoundError

# Objectness starts near 1% (sigmoid(-4.6)): almost every cell is background.
OBJECTNESS_PRIOR = -4.6


class TrainConv(nn.Module):
    """[convolutional]: conv (bias only without BN), optional BatchNorm2d, activation."""

    def __init__(self, spec: ConvSpec) -> None:
        super().__init__()
        self.spec = spec
        self.conv = nn.Conv2d(spec.in_channels, spec.filters, spec.size, spec.stride, spec.padding,
                              groups=spec.groups, bias=not spec.batch_normalize)
        # Darknet's and OpenCV's epsilon, so the exported file infers what this module computes in eval mode.
        self.bn = nn.BatchNorm2d(spec.filters, eps=BN_EPS) if spec.batch_normalize else None
        self.act = activation(spec.activation, spec.where)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return self.act(self.bn(x) if self.bn is not None else x)

    def load_darknet(self, floats: np.ndarray) -> None:
        """Set every parameter and BN statistic from this layer's floats of a .weights file."""
        bias, batch_norm, kernel = self.spec.unpack(floats)
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(kernel.copy()))
            if self.bn is None:
                self.conv.bias.copy_(torch.from_numpy(bias.copy()))
                return
            scale, mean, variance = batch_norm
            for tensor, values in ((self.bn.bias, bias), (self.bn.weight, scale), (self.bn.running_mean, mean),
                                   (self.bn.running_var, variance)):
                tensor.copy_(torch.from_numpy(values.copy()))

    def darknet_floats(self) -> np.ndarray:
        """This layer's floats in the .weights order (inverse of ``load_darknet``), BN not folded."""
        def values(tensor: torch.Tensor) -> np.ndarray:
            return tensor.detach().float().cpu().numpy()

        kernel = values(self.conv.weight)
        if self.bn is None:
            return ConvSpec.pack(values(self.conv.bias), None, kernel)
        batch_norm = tuple(values(t) for t in (self.bn.weight, self.bn.running_mean, self.bn.running_var))
        return ConvSpec.pack(values(self.bn.bias), batch_norm, kernel)

    def init_head(self, anchors: int, classes: int) -> None:
        """Fresh [yolo] input: small kernel, objectness and class biases at their priors."""
        if self.bn is not None:
            raise FramehoundError(f"{self.spec.where}: a conv feeding a [yolo] layer must not batch-normalize")
        nn.init.normal_(self.conv.weight, std=0.01)
        with torch.no_grad():
            bias = self.conv.bias.view(anchors, 5 + classes)
            bias.zero_()
            bias[:, 4] = OBJECTNESS_PRIOR
            bias[:, 5:] = math.log(0.6 / max(classes - 0.99, 0.01))


def build_trainable(base_cfg: str, base_weights: bytes | np.ndarray, classes: int) -> tuple[DarknetNet, str]:
    """The network of ``base_cfg`` resized to ``classes`` and its cfg text; pretrained except the head convs.

    Fresh parameters come from torch's generator: seed it first for a reproducible start.
    """
    base_plan = plan_layers(parse_cfg(base_cfg))
    cfg = resize_head(base_cfg, classes)
    sections = parse_cfg(cfg)
    heads = set(head_conv_indices(sections))
    layers: list[nn.Module] = []
    for i, (layer, floats) in enumerate(zip(plan_layers(sections), conv_weights(base_plan, base_weights),
                                            strict=True)):
        if not isinstance(layer, ConvSpec):
            layers.append(layer)
            continue
        conv = TrainConv(layer)
        if i in heads:
            conv.init_head(layer.filters // (5 + classes), classes)
        else:
            conv.load_darknet(floats)
        layers.append(conv)
    return DarknetNet(layers), cfg
