"""The shapes of a Darknet cfg's layers and the layout of its .weights file, without PyTorch.

Every reader of a cfg walks it the same way: ``plan_shapes`` says, per layer
after [net], what it reads and how many channels it gives, and for a
[convolutional] how many floats of the weights file it takes. The torch
network (``torch_model``), the trainer and the Darknet export (which cuts the
pretrained backbone out of the weights, as ``darknet partial`` does) build on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framehound.darknet.cfg import Section, parse_cfg, render_cfg
from framehound.errors import FramehoundError

LAYER_TYPES = frozenset({"convolutional", "maxpool", "upsample", "route", "shortcut", "yolo"})
# OpenCV's Darknet importer gives every batch norm this epsilon; every runtime here folds with it.
BN_EPS = 1e-6


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

    def folded(self, floats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(kernel, bias)`` float32 with batch norm folded in (computed in float64), for inference."""
        bias, batch_norm, kernel = self.unpack(floats.astype(np.float64))
        if batch_norm is not None:
            scale, mean, variance = batch_norm
            factor = scale / np.sqrt(variance + BN_EPS)
            kernel = kernel * factor[:, None, None, None]
            bias = bias - mean * factor
        return kernel.astype(np.float32), bias.astype(np.float32)


@dataclass(frozen=True)
class Shape:
    """One layer after [net]: its cfg section, the layers it reads and the channels it takes and gives."""

    section: Section
    where: str
    in_channels: int
    out_channels: int
    sources: tuple[int, ...] = ()
    conv: ConvSpec | None = None


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


def yolo_anchors(opts: dict[str, str]) -> tuple[list[tuple[float, float]], list[int]]:
    """A [yolo] layer's anchors (w, h) and its mask: the indices of those it predicts (all of ``num`` without one)."""
    pairs = [float(v) for v in opts.get("anchors", "").split(",") if v.strip()]
    anchors = list(zip(pairs[::2], pairs[1::2], strict=True))
    return anchors, _ints(opts["mask"]) if "mask" in opts else list(range(int(opts.get("num", len(anchors)))))


def plan_shapes(sections: list[Section]) -> list[Shape]:
    """Every layer after [net] with its inputs and channels; an unknown layer type or a channel mismatch fails."""
    channels = [int(sections[0].options.get("channels", 3))]  # channels[i + 1]: output of layer i
    shapes: list[Shape] = []
    for i, section in enumerate(sections[1:]):
        opts, where, current = section.options, f"cfg layer {i} [{section.type}]", channels[-1]
        if section.type not in LAYER_TYPES:
            raise FramehoundError(f"{where}: this layer type is not supported by framehound")
        shape = Shape(section, where, current, current)
        if section.type == "convolutional":
            conv = _conv(opts, current, where)
            shape = Shape(section, where, current, conv.filters, conv=conv)
        elif section.type == "route":
            groups = int(opts.get("groups", 1))
            sources = tuple(_absolute(j, i, where) for j in _ints(opts["layers"]))
            shape = Shape(section, where, current, sum(channels[j + 1] // groups for j in sources), sources)
        elif section.type == "shortcut":
            source = _absolute(int(opts["from"]), i, where)
            if channels[source + 1] != current:
                raise FramehoundError(f"{where}: adds {channels[source + 1]} channels to {current}")
            shape = Shape(section, where, current, current, (source,))
        shapes.append(shape)
        channels.append(shape.out_channels)
    return shapes


def maxpool_geometry(opts: dict[str, str]) -> tuple[int, int, tuple[int, int]]:
    """``(size, stride, (before, after))`` of a [maxpool]: Darknet pads ``size - 1``, the larger half after.

    That is what keeps the grid size for yolov3-tiny's stride-1, size-2 pool.
    """
    stride = int(opts.get("stride", 1))
    size = int(opts.get("size", stride))
    padding = int(opts.get("padding", size - 1))
    return size, stride, (padding // 2, padding - padding // 2)


def yolo_head(opts: dict[str, str], channels: int, where: str) -> tuple[list[tuple[float, float]], int, float, bool]:
    """A [yolo] layer's ``(anchors it predicts, classes, scale_x_y, new_coords)``; its input must fit them."""
    anchors, mask = yolo_anchors(opts)
    classes = int(opts.get("classes", 20))
    if channels != len(mask) * (5 + classes):
        raise FramehoundError(f"{where}: gets {channels} channels, but {len(mask)} anchors × "
                              f"(5 + {classes} classes) needs {len(mask) * (5 + classes)}")
    return [anchors[m] for m in mask], classes, float(opts.get("scale_x_y", 1)), bool(int(opts.get("new_coords", 0)))


def head_conv_indices(sections: list[Section]) -> list[int]:
    """Layer indices (after [net]) of the convolutions that feed a [yolo] layer directly."""
    layers = sections[1:]
    found = []
    for i, section in enumerate(layers):
        if section.type == "yolo":
            if i == 0 or layers[i - 1].type != "convolutional":
                raise FramehoundError(f"cfg layer {i} [yolo]: training needs a [convolutional] right before it")
            found.append(i - 1)
    if not found:
        raise FramehoundError("cfg: has no [yolo] layer to train")
    return found


def resize_head(cfg_text: str, classes: int) -> str:
    """The cfg with every [yolo] layer set to ``classes`` and the conv before it to ``mask × (5 + classes)`` filters."""
    sections = parse_cfg(cfg_text)
    for index in head_conv_indices(sections):
        yolo = sections[index + 2].options
        yolo["classes"] = str(classes)
        sections[index + 1].options["filters"] = str(len(yolo_anchors(yolo)[1]) * (5 + classes))
    return render_cfg(sections)


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


def split_weights(convs: list[ConvSpec | None], weights: bytes | np.ndarray | Path) -> list[np.ndarray | None]:
    """Per layer its slice of the weights file (None for layers without parameters, given as None).

    The file must hold exactly the floats the cfg needs: a mismatch means a
    truncated download or weights for another cfg, which would otherwise load
    as garbage.
    """
    floats = read_weights(weights)
    needed = sum(conv.param_count for conv in convs if conv is not None)
    if floats.size != needed:
        problem = "truncated" if floats.size < needed else "longer than the cfg describes"
        raise FramehoundError(f"weights: file is {problem}: {floats.size} float32 parameters after the header, "
                              f"the cfg needs {needed} (incomplete download, or weights for another cfg?)")
    slices: list[np.ndarray | None] = []
    offset = 0
    for conv in convs:
        if conv is None:
            slices.append(None)
        else:
            slices.append(floats[offset:offset + conv.param_count])
            offset += conv.param_count
    return slices


def backbone_weights(cfg_text: str, weights: bytes | np.ndarray | Path) -> tuple[int, bytes]:
    """``(n, file)``: the layers before the first conv feeding a [yolo] layer, as ``darknet partial … n`` cuts them.

    The file starts training a cfg with other classes: those convs and what
    follows them are the head, which Darknet then initializes itself.
    """
    sections = parse_cfg(cfg_text)
    cutoff = head_conv_indices(sections)[0]
    slices = split_weights([shape.conv for shape in plan_shapes(sections)], weights)
    return cutoff, write_weights(s for s in slices[:cutoff] if s is not None)
