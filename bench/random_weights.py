"""A model folder with random Darknet weights for a .cfg: speed does not depend on the weights.

    python bench/random_weights.py yolov3.cfg coco.names models-random/yolov3

Lets a benchmark run a network whose real weights are too large to carry (or
not downloadable where the benchmark runs). Kernels are small normal noise,
batch-norm variances positive, and the biases of the convolutions that feed a
[yolo] head are -10, so objectness stays near 0 as with trained weights on
ordinary frames: the objectness cut then keeps a realistic handful of rows, not
all of them. Seeded: the same file every time.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from framehound.darknet.cfg import parse_cfg
from framehound.darknet.torch_model import ConvSpec, YoloHead, plan_layers


def random_weights(cfg_text: str, seed: int = 0) -> bytes:
    """A .weights file (format 0.2 header, then float32 parameters) that ``cfg_text`` loads."""
    rng = np.random.default_rng(seed)
    planned = plan_layers(parse_cfg(cfg_text))
    chunks = [np.array([0, 2, 0], np.int32).tobytes(), np.zeros(1, np.int64).tobytes()]
    for index, layer in enumerate(planned):
        if not isinstance(layer, ConvSpec):
            continue
        f = layer.filters
        head = index + 1 < len(planned) and isinstance(planned[index + 1], YoloHead)
        bias = np.full(f, -10.0, np.float32) if head else rng.standard_normal(f, np.float32) * 0.01
        norm = [rng.uniform(0.5, 1.5, f).astype(np.float32), rng.standard_normal(f, np.float32) * 0.01,
                rng.uniform(0.5, 1.5, f).astype(np.float32)] if layer.batch_normalize else []
        kernel = rng.standard_normal(int(np.prod(layer.weight_shape)), np.float32) * 0.01
        chunks.append(np.concatenate([bias, *norm, kernel]).tobytes())
    return b"".join(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cfg", type=Path)
    parser.add_argument("names", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    text = args.cfg.read_text(encoding="utf-8")
    shutil.copyfile(args.cfg, args.out / "model.cfg")
    shutil.copyfile(args.names, args.out / "model.names")
    (args.out / "model.weights").write_bytes(random_weights(text))
    print(f"{args.out}: random weights for {args.cfg.name}")


if __name__ == "__main__":
    main()
