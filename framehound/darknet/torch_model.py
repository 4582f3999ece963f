"""A PyTorch YOLO network built from a Darknet .cfg and .weights pair.

It reproduces OpenCV DNN's Darknet import (with ``thresh=0``) so the torch
backend can stand in for OpenCV where PyTorch has a GPU and OpenCV has none.
For inference batch norm is folded into the convolutions at load time; training
(``framehound.train``) builds the same plan with real batch norm layers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from framehound.darknet.cfg import Section, parse_cfg
from framehound.errors import FramehoundError

# OpenCV's Darknet importer gives every batch norm this epsilon.
BN_EPS = 1e-6

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


@dataclass(frozen=True)
class ConvSpec:
    """A [convolutional] layer before its weights are read: it knows how many floats it takes."""

    in_channels: int
    filters: int
    size: int
    stride: int
    padding: int
    groups: int
    batch_normalize: bool
    activation: str
    where: str

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.filters, self.in_channels // self.groups, self.size, self.size)

    @property
    def param_count(self) -> int:
        """Floats in the weights file: biases (plus scales, means, variances with BN), then kernels."""
        return self.filters * (4 if self.batch_normalize else 1) + int(np.prod(self.weight_shape))

    def unpack(self, floats: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None, np.ndarray]:
        """``(bias, (scale, mean, variance) or None, kernel)``: this layer's floats in Darknet's order.

        With batch norm the bias is BN's beta (shift); the kernel comes last. ``pack`` is the inverse.
        """
        f = self.filters
        kernel = floats[-int(np.prod(self.weight_shape)):].reshape(self.weight_shape)
        batch_norm = (floats[f:2 * f], floats[2 * f:3 * f], floats[3 * f:4 * f]) if self.batch_normalize else None
        return floats[:f], batch_norm, kernel

    @staticmethod
    def pack(bias: np.ndarray, batch_norm: tuple[np.ndarray, ...] | None, kernel: np.ndarray) -> np.ndarray:
        """float32 values in the weights file's order (inverse of ``unpack``)."""
        parts = [bias, *(batch_norm or ()), kernel]
        return np.concatenate([np.asarray(a, np.float32).reshape(-1) for a in parts])

    def load(self, floats: np.ndarray) -> nn.Sequential:
        """Conv + activation with batch norm folded into the kernel and bias (in float64, then float32)."""
        bias, batch_norm, weight = self.unpack(floats.astype(np.float64))
        if batch_norm is not None:
            scale, mean, variance = batch_norm
            factor = scale / np.sqrt(variance + BN_EPS)
            weight = weight * factor[:, None, None, None]
            bias = bias - mean * factor
        # Built on the meta device: no time spent on a random init that is overwritten.
        conv = nn.Conv2d(self.in_channels, self.filters, self.size, self.stride, self.padding, groups=self.groups,
                         device="meta")
        conv.weight = nn.Parameter(torch.from_numpy(weight.astype(np.float32)), requires_grad=False)
        conv.bias = nn.Parameter(torch.from_numpy(bias.astype(np.float32)), requires_grad=False)
        return nn.Sequential(conv, activation(self.activation, self.where))


class MaxPool(nn.Module):
    """Darknet max pooling: ``size - 1`` padding split left/right, the larger half right and bottom.

    That is what keeps the grid size for yolov3-tiny's stride-1, size-2 pool.
    """

    def __init__(self, size: int, stride: int, padding: int) -> None:
        super().__init__()
        self.size, self.stride = size, stride
        self.pads = (padding // 2, padding - padding // 2) * 2  # left, right, top, bottom

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


def _ints(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


def _absolute(index: int, current: int, where: str) -> int:
    """Darknet layer references: negative counts back from the current layer, positive is absolute."""
    resolved = current + index if index < 0 else index
    if not 0 <= resolved < current:
        raise FramehoundError(f"{where}: refers to layer {index}, which is not an earlier layer")
    return resolved


def _conv(opts: dict[str, str], channels: int, where: str) -> ConvSpec:
    size = int(opts.get("size", 1))
    padding = size // 2 if int(opts.get("pad", 0)) else int(opts.get("padding", 0))
    return ConvSpec(channels, int(opts.get("filters", 1)), size, int(opts.get("stride", 1)), padding,
                    int(opts.get("groups", 1)), bool(int(opts.get("batch_normalize", 0))),
                    opts.get("activation", "logistic"), where)


def _maxpool(opts: dict[str, str]) -> MaxPool:
    stride = int(opts.get("stride", 1))
    size = int(opts.get("size", stride))
    return MaxPool(size, stride, int(opts.get("padding", size - 1)))


def yolo_anchors(opts: dict[str, str]) -> tuple[list[tuple[float, float]], list[int]]:
    """A [yolo] layer's anchors (w, h) and its mask: the indices of those it predicts (all of ``num`` without one)."""
    pairs = [float(v) for v in opts.get("anchors", "").split(",") if v.strip()]
    anchors = list(zip(pairs[::2], pairs[1::2], strict=True))
    return anchors, _ints(opts["mask"]) if "mask" in opts else list(range(int(opts.get("num", len(anchors)))))


def _yolo(opts: dict[str, str], channels: int, where: str) -> YoloHead:
    anchors, mask = yolo_anchors(opts)
    classes = int(opts.get("classes", 20))
    if channels != len(mask) * (5 + classes):
        raise FramehoundError(f"{where}: gets {channels} channels, but {len(mask)} anchors × "
                              f"(5 + {classes} classes) needs {len(mask) * (5 + classes)}")
    return YoloHead([anchors[m] for m in mask], classes, float(opts.get("scale_x_y", 1)),
                    bool(int(opts.get("new_coords", 0))))


def plan_layers(sections: list[Section]) -> list[nn.Module | ConvSpec]:
    """Every layer after [net], with convolutions still waiting for weights."""
    channels = [int(sections[0].options.get("channels", 3))]  # channels[i + 1]: output of layer i
    layers: list[nn.Module | ConvSpec] = []
    for i, section in enumerate(sections[1:]):
        opts, where, current = section.options, f"cfg layer {i} [{section.type}]", channels[-1]
        layer: nn.Module | ConvSpec
        if section.type == "convolutional":
            layer = _conv(opts, current, where)
            current = layer.filters
        elif section.type == "maxpool":
            layer = _maxpool(opts)
        elif section.type == "upsample":
            layer = nn.Upsample(scale_factor=int(opts.get("stride", 2)), mode="nearest")
        elif section.type == "route":
            groups = int(opts.get("groups", 1))
            sources = tuple(_absolute(j, i, where) for j in _ints(opts["layers"]))
            layer = Route(sources, groups, int(opts.get("group_id", 0)))
            current = sum(channels[j + 1] // groups for j in sources)
        elif section.type == "shortcut":
            source = _absolute(int(opts["from"]), i, where)
            if channels[source + 1] != current:
                raise FramehoundError(f"{where}: adds {channels[source + 1]} channels to {current}")
            layer = Shortcut(source, activation(opts.get("activation", "linear"), where))
        elif section.type == "yolo":
            layer = _yolo(opts, current, where)
        else:
            raise FramehoundError(f"{where}: this layer type is not supported by the torch backend")
        layers.append(layer)
        channels.append(current)
    return layers


def write_weights(layers: Iterable[np.ndarray], seen: int = 0) -> bytes:
    """A Darknet .weights file (format 0.2: int32 0, 2, 0, int64 ``seen``) of each conv layer's float32 values."""
    header = np.array([0, 2, 0], np.int32).tobytes() + np.array([seen], np.int64).tobytes()
    return header + b"".join(np.asarray(floats, np.float32).tobytes() for floats in layers)


def read_weights(weights: bytes | np.ndarray | Path) -> np.ndarray:
    """The float32 parameters of a Darknet .weights file, after its header.

    The header is major, minor, revision (int32), then ``seen``: int64 from
    format 0.2 on, int32 before (Darknet's own rule).
    """
    raw = np.fromfile(weights, np.uint8) if isinstance(weights, Path) else np.frombuffer(weights, np.uint8)
    if raw.size < 12:
        raise FramehoundError(f"weights: {raw.size} bytes is too short for a Darknet header")
    major, minor, _ = raw[:12].view(np.int32)
    seen_size = 8 if major * 10 + minor >= 2 and major < 1000 and minor < 1000 else 4
    body = raw[12 + seen_size:]
    if body.size % 4:
        raise FramehoundError(f"weights: {body.size} bytes after the header is not a whole number of float32 values")
    return body.view(np.float32)


def split_weights(planned: list[nn.Module | ConvSpec],
                  weights: bytes | np.ndarray | Path) -> list[np.ndarray | None]:
    """Per planned layer its slice of the weights file (None for layers without parameters).

    The file must hold exactly the floats the cfg needs: a mismatch means a
    truncated download or weights for another cfg, which would otherwise load
    as garbage.
    """
    floats = read_weights(weights)
    needed = sum(layer.param_count for layer in planned if isinstance(layer, ConvSpec))
    if floats.size != needed:
        problem = "truncated" if floats.size < needed else "longer than the cfg describes"
        raise FramehoundError(f"weights: file is {problem}: {floats.size} float32 parameters after the header, "
                              f"the cfg needs {needed} (incomplete download, or weights for another cfg?)")
    slices: list[np.ndarray | None] = []
    offset = 0
    for layer in planned:
        if isinstance(layer, ConvSpec):
            slices.append(floats[offset:offset + layer.param_count])
            offset += layer.param_count
        else:
            slices.append(None)
    return slices


def build_darknet(cfg_text: str, weights: bytes | np.ndarray | Path) -> DarknetNet:
    """The network described by ``cfg_text`` with the parameters in ``weights``, in eval mode, BN folded."""
    planned = plan_layers(parse_cfg(cfg_text))
    layers = [layer.load(floats) if isinstance(layer, ConvSpec) else layer
              for layer, floats in zip(planned, split_weights(planned, weights), strict=True)]
    return DarknetNet(layers).eval()
