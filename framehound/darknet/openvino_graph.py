"""An OpenVINO model built straight from a Darknet .cfg and .weights, with OpenVINO's graph API: no PyTorch.

The graph reproduces OpenCV DNN's Darknet import (with ``thresh=0``), as the
torch network does: batch norm folded into the kernels (``ConvSpec.folded``),
Darknet's asymmetric max-pool padding, route groups, shortcuts, and the [yolo]
heads decoded in the graph into OpenCV's rows (cell row, cell column, anchor;
``cx, cy, w, h`` as fractions of the input, objectness, objectness × class
probability). The input is the ``network_input`` frame, (N, S, S, 3) uint8 RGB:
the scaling to 0..1 and the move to channels-first happen inside the graph.

Max pooling pads by repeating the edge, not with -inf: every window holds a real
pixel at the padded edge, so the maximum is the same, and a finite padding lets
int8 quantization keep the pools (and the convolutions around them) in int8.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from framehound.darknet.cfg import parse_cfg
from framehound.darknet.layers import ConvSpec, Shape, maxpool_geometry, plan_shapes, split_weights, yolo_head
from framehound.errors import FramehoundError
from framehound.openvino_runtime import import_openvino

# The friendly-name prefix of every node of a [yolo] head's decoding: int8 quantization leaves them out.
HEAD_PREFIX = "yolo_head"


def _ops() -> Any:
    import_openvino()
    import openvino.opset13 as ops

    return ops


def _const(ops: Any, values: Any, dtype: type = np.float32) -> Any:
    return ops.constant(np.asarray(values, dtype))


def _activate(ops: Any, x: Any, name: str, where: str) -> Any:
    if name == "leaky":
        return ops.prelu(x, _const(ops, [0.1]))
    if name == "mish":
        return ops.mish(x)
    if name == "swish":
        return ops.swish(x)
    if name == "logistic":
        return ops.sigmoid(x)
    if name == "relu":
        return ops.relu(x)
    if name == "linear":
        return x
    raise FramehoundError(f"{where}: activation {name!r} is not supported by the openvino backend")


def _conv(ops: Any, x: Any, spec: ConvSpec, floats: np.ndarray) -> Any:
    kernel, bias = spec.folded(floats)
    stride, pads = [spec.stride] * 2, [spec.padding] * 2
    if spec.groups == 1:
        y = ops.convolution(x, _const(ops, kernel), stride, pads, pads, [1, 1])
    else:
        grouped = kernel.reshape(spec.groups, spec.filters // spec.groups, *kernel.shape[1:])
        y = ops.group_convolution(x, _const(ops, grouped), stride, pads, pads, [1, 1])
    y = ops.add(y, _const(ops, bias.reshape(1, -1, 1, 1)))
    return _activate(ops, y, spec.activation, spec.where)


def _maxpool(ops: Any, x: Any, opts: dict[str, str]) -> Any:
    size, stride, (before, after) = maxpool_geometry(opts)
    if before or after:
        x = ops.pad(x, _const(ops, [0, 0, before, before], np.int64), _const(ops, [0, 0, after, after], np.int64),
                    "edge", _const(ops, 0.0))  # the value is unused with "edge"; given, it is named in order too
    return ops.max_pool(x, [stride] * 2, [1, 1], [0, 0], [0, 0], [size] * 2, "floor").output(0)


def _upsample(ops: Any, x: Any, stride: int) -> Any:
    """Nearest-neighbour upsampling by an integer factor: each value repeated ``stride`` × ``stride`` times."""
    n, c, h, w = x.get_output_partial_shape(0).to_shape()
    tiled = ops.broadcast(ops.reshape(x, _const(ops, [n, c, h, 1, w, 1], np.int64), False),
                          _const(ops, [n, c, h, stride, w, stride], np.int64))
    return ops.reshape(tiled, _const(ops, [n, c, h * stride, w * stride], np.int64), False)


def _head(ops: Any, x: Any, shape: Shape, input_size: int, index: int) -> Any:
    """One [yolo] layer's rows, (N, rows × cols × anchors, 5 + classes)."""
    anchors, classes, scale_x_y, new_coords = yolo_head(shape.section.options, shape.in_channels, shape.where)
    n, _, rows, cols = x.get_output_partial_shape(0).to_shape()
    a, width = len(anchors), 5 + classes
    p = ops.transpose(ops.reshape(x, _const(ops, [n, a, width, rows, cols], np.int64), False),
                      _const(ops, [0, 3, 4, 1, 2], np.int64))  # N, rows, cols, anchors, 5 + classes
    xy, wh, objectness, scores = ops.variadic_split(p, _const(ops, -1, np.int64),
                                                    _const(ops, [2, 2, 1, classes], np.int64)).outputs()
    squash = (lambda t: t) if new_coords else ops.sigmoid
    grid = np.stack(np.meshgrid(np.arange(cols), np.arange(rows)), axis=-1)[None, :, :, None, :]  # (col, row)
    xy = ops.multiply(squash(xy), _const(ops, scale_x_y))
    xy = ops.add(xy, _const(ops, grid - (scale_x_y - 1) / 2))
    xy = ops.divide(xy, _const(ops, [cols, rows]))
    size = ops.power(ops.multiply(wh, _const(ops, 2.0)), _const(ops, 2.0)) if new_coords else ops.exp(wh)
    wh = ops.multiply(size, _const(ops, np.asarray(anchors) / input_size))
    objectness = squash(objectness)
    scores = ops.multiply(objectness, squash(scores))
    out = ops.concat([xy, wh, objectness, scores], -1)
    out = ops.reshape(out, _const(ops, [n, rows * cols * a, width], np.int64), False)
    for node in _nodes_between(out, x):
        node.set_friendly_name(f"{HEAD_PREFIX}{index}/")  # made unique by ``name_in_order``
    return out


def _nodes_between(last: Any, first: Any) -> list[Any]:
    """The nodes after ``first`` up to ``last`` (a head's decoding), found by walking inputs back."""
    stop = (first.get_node() if hasattr(first, "get_node") else first).get_name()
    todo, found = [last.get_node() if hasattr(last, "get_node") else last], {}
    while todo:
        node = todo.pop()
        if node.get_name() in found or node.get_name() == stop or node.get_type_name() == "Constant":
            continue
        found[node.get_name()] = node
        todo.extend(value.get_node() for value in node.input_values())
    return list(found.values())


def build_model(cfg_text: str, weights: bytes | np.ndarray | Path, input_size: int) -> Any:
    """The ``openvino.Model`` of a Darknet network at ``input_size`` (a multiple of 32), (1, S, S, 3) uint8 in."""
    ops = _ops()
    import openvino

    if input_size <= 0 or input_size % 32:
        raise FramehoundError(f"detect.input_size: {input_size} is not a positive multiple of 32")
    shapes = plan_shapes(parse_cfg(cfg_text))
    floats = split_weights([shape.conv for shape in shapes], weights)
    image = ops.parameter([1, input_size, input_size, 3], openvino.Type.u8, name="image")
    x = ops.transpose(ops.multiply(ops.convert(image, "f32"), _const(ops, 1 / 255.0)),
                      _const(ops, [0, 3, 1, 2], np.int64))
    outputs: list[Any] = []
    heads: list[Any] = []
    for shape, params in zip(shapes, floats, strict=True):
        kind, opts = shape.section.type, shape.section.options
        if shape.conv is not None:
            x = _conv(ops, x, shape.conv, params)
        elif kind == "maxpool":
            x = _maxpool(ops, x, opts)
        elif kind == "upsample":
            x = _upsample(ops, x, int(opts.get("stride", 2)))
        elif kind == "route":
            groups, group_id = int(opts.get("groups", 1)), int(opts.get("group_id", 0))
            parts = [outputs[j] if groups == 1 else ops.split(outputs[j], _const(ops, 1, np.int64), groups)
                     .output(group_id) for j in shape.sources]
            x = parts[0] if len(parts) == 1 else ops.concat(parts, 1)
        elif kind == "shortcut":
            x = _activate(ops, ops.add(x, outputs[shape.sources[0]]), opts.get("activation", "linear"), shape.where)
        else:
            heads.append(_head(ops, x, shape, input_size, len(heads)))
        outputs.append(x)
    if not heads:
        raise FramehoundError("cfg: has no [yolo] layer to detect with")
    rows = heads[0] if len(heads) == 1 else ops.concat(heads, 1)
    model = openvino.Model([ops.result(rows)], [image], "darknet")
    name_in_order(model)
    return model


def name_in_order(model: Any) -> None:
    """Name every node by its place in the graph, keeping the head tag.

    OpenVINO's default names count the nodes made in the process, so a second build (or
    any model built before) would serialize other names, and the int8 model other bytes.
    """
    for position, node in enumerate(model.get_ordered_ops()):
        head = node.get_friendly_name() if node.get_friendly_name().startswith(HEAD_PREFIX) else ""
        node.set_friendly_name(f"{head}{node.get_type_name()}_{position}")
    model.output(0).get_tensor().set_names({"rows"})
