"""A PyTorch YOLO network built from a Darknet .cfg and .weights pair.

It reproduces OpenCV DNN's Darknet import (with ``thresh=0``) so the torch
backend can stand in for OpenCV where PyTorch has a GPU and OpenCV has none.
For inference batch norm is folded into the convolutions at load time; training
(``framehound.train``) builds the same plan with real batch norm layers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from framehound.darknet.cfg import Section, parse_cfg
from framehound.darknet.layers import ConvSpec, maxpool_geometry, plan_shapes, split_weights, yolo_head
from framehound.errors import FramehoundError

ACTIVATIONS = {
    "leaky": lambda: nn.LeakyReLU(0.1),
    "mish": nn.Mish,
    "linear": nn.Identity,
    "logistic": nn.Sigmoid,
    "relu": nn.ReLU,
    "swish": nn.SiLU,
}


def activation(name: str, where: str) -> nn.Module:
    """The torch module for a Darknet ``activation=`` value."""
    if name not in ACTIVATIONS:
        raise FramehoundError(f"{where}: activation {name!r} is not supported by the torch backend")
    return ACTIVATIONS[name]()


class MaxPool(nn.Module):
    """Darknet max pooling (``layers.maxpool_geometry``)."""

    def __init__(self, size: int, stride: int, pads: tuple[int, int]) -> None:
        super().__init__()
        self.size, self.stride = size, stride
        self.pads = pads * 2  # left, right, top, bottom

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = F.pad(x, self.pads, value=float("-inf"))
        return F.max_pool2d(padded, self.size, self.stride)


class Route(nn.Module):
    """Concatenate earlier outputs along channels, taking group ``group_id`` of ``groups`` from each."""

    def __init__(self, sources: tuple[int, ...], groups: int, group_id: int) -> None:
        super().__init__()
        self.sources, self.groups, self.group_id = sources, groups, group_id

    def forward(self, saved: dict[int, torch.Tensor]) -> torch.Tensor:
        parts = [saved[i].chunk(self.groups, dim=1)[self.group_id] for i in self.sources]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


class Shortcut(nn.Module):
    """Residual sum with an earlier output, then an activation."""

    def __init__(self, source: int, act: nn.Module) -> None:
        super().__init__()
        self.sources = (source,)
        self.act = act

    def forward(self, x: torch.Tensor, saved: dict[int, torch.Tensor]) -> torch.Tensor:
        return self.act(x + saved[self.sources[0]])


class YoloHead(nn.Module):
    """Decode one [yolo] layer into OpenCV's rows, ordered by cell row, cell column, then anchor.

    Decoding runs in float32 even for an fp16 network: ``exp`` of box logits overflows fp16.
    The anchors stay Python floats, not a buffer, so converting the network to fp16 cannot round them.

    ``new_coords`` (YOLOv7-tiny, Scaled-YOLOv4) is Darknet's ``get_yolo_box_new_coords``: the conv
    before the layer already applied ``logistic``, so nothing is activated here, and a box is
    ``(2·t)²`` anchors wide instead of ``exp(t)``.
    """

    def __init__(self, anchors: list[tuple[float, float]], classes: int, scale_x_y: float,
                 new_coords: bool = False) -> None:
        super().__init__()
        self.anchors, self.classes, self.scale_x_y = anchors, classes, scale_x_y
        self.new_coords = new_coords

    def forward(self, x: torch.Tensor, input_w: int, input_h: int) -> torch.Tensor:
        n, _, rows, cols = x.shape
        p = x.float().view(n, len(self.anchors), 5 + self.classes, rows, cols).permute(0, 3, 4, 1, 2)
        col = torch.arange(cols, device=x.device, dtype=torch.float32).view(1, 1, cols, 1)
        row = torch.arange(rows, device=x.device, dtype=torch.float32).view(1, rows, 1, 1)
        shift = (self.scale_x_y - 1) / 2
        squash = (lambda t: t) if self.new_coords else torch.sigmoid
        xy = squash(p[..., :2]) * self.scale_x_y - shift
        cx = (col + xy[..., 0]) / cols
        cy = (row + xy[..., 1]) / rows
        anchors = torch.tensor(self.anchors, device=x.device)
        size = (2 * p[..., 2:4]) ** 2 if self.new_coords else torch.exp(p[..., 2:4])
        wh = size * anchors / torch.tensor([input_w, input_h], device=x.device)
        objectness = squash(p[..., 4:5])
        scores = objectness * squash(p[..., 5:])
        out = torch.cat([cx[..., None], cy[..., None], wh, objectness, scores], dim=-1)
        return out.reshape(n, -1, 5 + self.classes)


class DarknetNet(nn.Module):
    """The layers in cfg order; forward returns (N, rows, 5 + classes) over all [yolo] layers."""

    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        # Only outputs that a route or shortcut reads later are kept alive.
        self.keep = frozenset(i for layer in layers for i in getattr(layer, "sources", ()))

    def head_inputs(self, image: torch.Tensor) -> list[tuple[YoloHead, torch.Tensor]]:
        """Each [yolo] layer with the raw tensor it decodes, (N, anchors × (5 + classes), rows, cols).

        What training computes its loss on; ``forward`` decodes them.
        """
        x = image
        saved: dict[int, torch.Tensor] = {}
        heads: list[tuple[YoloHead, torch.Tensor]] = []
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Route):
                x = layer(saved)
            elif isinstance(layer, Shortcut):
                x = layer(x, saved)
            elif isinstance(layer, YoloHead):
                heads.append((layer, x))
            else:
                x = layer(x)
            if i in self.keep:
                saved[i] = x
        return heads

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.cat([head(x, image.shape[-1], image.shape[-2]) for head, x in self.head_inputs(image)], dim=1)


def plan_layers(sections: list[Section]) -> list[nn.Module | ConvSpec]:
    """Every layer after [net] (``plan_shapes``), with convolutions still waiting for weights."""
    layers: list[nn.Module | ConvSpec] = []
    for shape in plan_shapes(sections):
        kind, opts = shape.section.type, shape.section.options
        layer: nn.Module | ConvSpec
        if shape.conv is not None:
            layer = shape.conv
        elif kind == "maxpool":
            layer = MaxPool(*maxpool_geometry(opts))
        elif kind == "upsample":
            layer = nn.Upsample(scale_factor=int(opts.get("stride", 2)), mode="nearest")
        elif kind == "route":
            layer = Route(shape.sources, int(opts.get("groups", 1)), int(opts.get("group_id", 0)))
        elif kind == "shortcut":
            layer = Shortcut(shape.sources[0], activation(opts.get("activation", "linear"), shape.where))
        else:
            layer = YoloHead(*yolo_head(opts, shape.in_channels, shape.where))
        layers.append(layer)
    return layers


def folded_conv(spec: ConvSpec, floats: np.ndarray) -> nn.Sequential:
    """Conv + activation with batch norm folded into the kernel and bias (in float64, then float32)."""
    weight, bias = spec.folded(floats)
    # Built on the meta device: no time spent on a random init that is overwritten.
    conv = nn.Conv2d(spec.in_channels, spec.filters, spec.size, spec.stride, spec.padding, groups=spec.groups,
                     device="meta")
    conv.weight = nn.Parameter(torch.from_numpy(weight), requires_grad=False)
    conv.bias = nn.Parameter(torch.from_numpy(bias), requires_grad=False)
    return nn.Sequential(conv, activation(spec.activation, spec.where))


def conv_weights(planned: list[nn.Module | ConvSpec], weights: bytes | np.ndarray | Path) -> list[np.ndarray | None]:
    """``split_weights`` over a plan: each conv's floats, None for the other layers."""
    return split_weights([layer if isinstance(layer, ConvSpec) else None for layer in planned], weights)


def build_darknet(cfg_text: str, weights: bytes | np.ndarray | Path) -> DarknetNet:
    """The network described by ``cfg_text`` with the parameters in ``weights``, in eval mode, BN folded."""
    planned = plan_layers(parse_cfg(cfg_text))
    layers = [folded_conv(layer, floats) if isinstance(layer, ConvSpec) else layer
              for layer, floats in zip(planned, conv_weights(planned, weights), strict=True)]
    return DarknetNet(layers).eval()
