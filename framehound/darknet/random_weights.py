"""Random Darknet weights for a .cfg: for benchmarks (speed does not depend on the weights) and parity tests.

Kernels are normal with standard deviation 1/sqrt(fan-in), so activations keep
their scale through a deep network and every layer's output matters; batch-norm
scales and variances lie in 0.5..1.5, means and biases are small. Seeded: the
same file every time. Needs no PyTorch.
"""

from __future__ import annotations

import numpy as np

from framehound.darknet.cfg import parse_cfg
from framehound.darknet.layers import ConvSpec, plan_shapes, write_weights


def random_weights(cfg_text: str, seed: int | np.random.Generator = 0, head_bias: float | None = None) -> bytes:
    """A .weights file (format 0.2 header, then float32 parameters) that ``cfg_text`` loads.

    ``head_bias``: the bias of every conv that feeds a [yolo] layer (e.g. -10, so that
    objectness stays near 0 as with trained weights on ordinary frames); random like
    the others when None.
    """
    rng = np.random.default_rng(seed)
    shapes = plan_shapes(parse_cfg(cfg_text))
    layers = []
    for index, shape in enumerate(shapes):
        conv = shape.conv
        if conv is None:
            continue
        n = conv.filters
        biases = rng.normal(0, 0.1, n)
        if head_bias is not None and index + 1 < len(shapes) and shapes[index + 1].section.type == "yolo":
            biases = np.full(n, head_bias)
        kernel = rng.normal(0, 1 / np.sqrt(np.prod(conv.weight_shape[1:])), conv.weight_shape)
        scales_means_variances = (rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n), rng.uniform(0.5, 1.5, n))
        layers.append(ConvSpec.pack(biases, scales_means_variances if conv.batch_normalize else None, kernel))
    return write_weights(layers)
