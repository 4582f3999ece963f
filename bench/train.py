"""Training throughput: images/s of the train stage's optimizer step on yolov3-tiny.

Times ``framehound.train.loop.train_step`` (forward, the YOLOv3 loss, backward,
AdamW step; AMP on CUDA) on batches of random frames with 1 to 4 random boxes
each, after warm-up steps. Decoding and augmenting JPEGs is left out: it runs
on the CPU beside the step and is not what a GPU waits for at these sizes.
The best of --repeats timings counts (these machines are shared and noisy).

    python bench/train.py                              # CPU, 416, batch 8
    python bench/train.py --device cuda --batch-size 64
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from framehound.darknet.cfg import parse_cfg
from framehound.layout import paths
from framehound.train.loop import make_optimizer, resolve_device, train_step
from framehound.train.loss import ignore_thresholds
from framehound.train.network import build_trainable


def random_batch(rng: np.random.Generator, batch: int, size: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    images = rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
    rows = []
    for i in range(batch):
        for _ in range(int(rng.integers(1, 5))):
            w, h = rng.uniform(0.05, 0.5, 2)
            rows.append((i, int(rng.integers(0, classes)), rng.uniform(w / 2, 1 - w / 2), rng.uniform(h / 2, 1 - h / 2),
                         w, h))
    return images, np.array(rows, np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path(paths.models) / "yolov3-tiny")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--size", type=int, default=416)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    device = resolve_device(args.device)
    torch.manual_seed(0)
    net, cfg = build_trainable((args.model / "model.cfg").read_text(), (args.model / "model.weights").read_bytes(),
                               args.classes)
    net = net.to(device, memory_format=torch.channels_last).train()
    optimizer, scaler = make_optimizer(net, 1e-4, device)
    ignore = ignore_thresholds(parse_cfg(cfg))
    rng = np.random.default_rng(0)
    batches = [random_batch(rng, args.batch_size, args.size, args.classes) for _ in range(args.steps)]
    for images, targets in batches[:args.warmup]:
        train_step(net, optimizer, scaler, images, targets, ignore)
    best = 0.0
    for _ in range(args.repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        for images, targets in batches:
            train_step(net, optimizer, scaler, images, targets, ignore)  # returns a float: waits for the GPU
        best = max(best, args.steps * args.batch_size / (time.perf_counter() - started))
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    amp = ", AMP fp16" if scaler.is_enabled() else ""
    print(f"train step: yolov3-tiny at {args.size}, batch {args.batch_size}, {name}{amp}: {best:.1f} images/s")


if __name__ == "__main__":
    main()
