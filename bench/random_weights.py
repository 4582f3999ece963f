"""A model folder with random Darknet weights for a .cfg: speed does not depend on the weights.

    python bench/random_weights.py yolov3.cfg coco.names models-random/yolov3

Lets a benchmark run a network whose real weights are too large to carry (or
not downloadable where the benchmark runs). The weights are
``framehound.darknet.random_weights``'s, with the biases of the convolutions
that feed a [yolo] head at -10, so objectness stays near 0 as with trained
weights on ordinary frames: the objectness cut then keeps a realistic handful
of rows, not all of them. Seeded: the same file every time.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from framehound.darknet.random_weights import random_weights


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
    (args.out / "model.weights").write_bytes(random_weights(text, head_bias=-10.0))
    print(f"{args.out}: random weights for {args.cfg.name}")


if __name__ == "__main__":
    main()
