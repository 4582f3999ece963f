"""The training loop: AdamW, linear warm-up then cosine decay, AMP on CUDA, seeded end to end.

AdamW rather than SGD: the loss is a sum over predictions whose scale depends
on the image size, boxes per image and classes, and Adam's per-parameter step
size does not care, so one learning rate works from a 200-image test set to a
real dataset without tuning. Warm-up (the first 10% of the steps, at least one)
keeps the fresh head's large early gradients from wrecking the pretrained
backbone; cosine decay to 5% of the rate settles the weights at the end.

On the CPU the same seed gives the same weights and metrics: the head's
initial values come from ``torch.manual_seed``, batches and augmentations from
numpy generators seeded by (seed, epoch, image), and nothing runs in another
thread or process in an order that could vary. On CUDA, AMP and cuDNN's
kernels make runs close, not bitwise equal.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from framehound.darknet.cfg import parse_cfg
from framehound.darknet.torch_model import DarknetNet
from framehound.errors import FramehoundError
from framehound.params import TrainParams
from framehound.train.data import Sample, batches, read_split
from framehound.train.evaluate import coco_map, predict
from framehound.train.loss import ignore_thresholds, yolo_loss
from framehound.train.network import build_trainable

log = logging.getLogger("framehound")

WARMUP_SHARE = 0.1
FINAL_LR_SHARE = 0.05
WEIGHT_DECAY = 0.01


@dataclass
class Trained:
    """The trained network, its cfg and what happened on the way."""

    net: DarknetNet
    cfg: str
    classes: list[str]
    images: dict[str, int]
    before: dict
    after: dict
    history: list[dict] = field(default_factory=list)  # one row per epoch: losses, learning rate, val mAP
    seen: int = 0
    seconds: float = 0.0


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise FramehoundError("train.device: cuda, but PyTorch sees no CUDA device (use auto or cpu)")
    return torch.device(name)


def learning_rate(step: int, total: int, peak: float) -> float:
    """Linear warm-up over the first WARMUP_SHARE of ``total`` steps, then cosine down to FINAL_LR_SHARE."""
    warmup = max(1, round(total * WARMUP_SHARE))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (FINAL_LR_SHARE + (1 - FINAL_LR_SHARE) * 0.5 * (1 + math.cos(math.pi * progress)))


def train_step(net: DarknetNet, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
               images: np.ndarray, targets: np.ndarray, ignore: list[float]) -> tuple[float, dict[str, float]]:
    """One optimizer step on an (N, S, S, 3) uint8 batch; autocast to fp16 when the scaler is enabled (CUDA)."""
    device = next(net.parameters()).device
    x = torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float().mul_(1 / 255.0)
    with torch.autocast(device.type, dtype=torch.float16, enabled=scaler.is_enabled()):
        heads = net.head_inputs(x)
    loss, parts = yolo_loss(heads, torch.from_numpy(targets).to(device), tuple(x.shape[-1:-3:-1]), ignore)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return float(loss.detach()), parts


def make_optimizer(net: DarknetNet, lr: float, device: torch.device) -> tuple[torch.optim.Optimizer,
                                                                              torch.amp.GradScaler]:
    """AdamW (no weight decay on batch-norm parameters and biases) and a gradient scaler, enabled on CUDA."""
    decayed = [p for p in net.parameters() if p.ndim > 1]
    plain = [p for p in net.parameters() if p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": WEIGHT_DECAY},
                                   {"params": plain, "weight_decay": 0.0}], lr=lr)
    return optimizer, torch.amp.GradScaler("cuda", enabled=device.type == "cuda")


def evaluate(net: DarknetNet, samples: list[Sample], classes: list[str], size: int, device: torch.device) -> dict:
    if not samples:
        return {"map50": None, "map": None, "per_class": dict.fromkeys(classes)}
    return coco_map(samples, classes, predict(net, samples, size, device))


def fit(params: TrainParams, base_model: Path, dataset: Path,
        on_epoch: Callable[[dict], None] = lambda row: None) -> Trained:
    """Fine-tune the model in ``base_model`` on ``dataset``'s train split, judged on its val split."""
    started = time.perf_counter()
    device = resolve_device(params.device)
    classes, train = read_split(dataset, "train")
    _, val = read_split(dataset, "val")
    if not train:
        raise FramehoundError(f"{dataset}/images/train: no images to train on")
    torch.manual_seed(params.seed)
    np.random.seed(params.seed)
    base_cfg = (base_model / "model.cfg").read_text(encoding="utf-8")
    net, cfg = build_trainable(base_cfg, (base_model / "model.weights").read_bytes(), len(classes))
    net = net.to(device, memory_format=torch.channels_last)
    ignore = ignore_thresholds(parse_cfg(cfg))
    size = params.image_size
    before = evaluate(net, val, classes, size, device)
    log.info("val mAP@0.5 before training: %s", before["map50"])
    steps_per_epoch = max(1, len(train) // params.batch_size + (len(train) % params.batch_size > 1))
    total = steps_per_epoch * params.epochs
    optimizer, scaler = make_optimizer(net, params.learning_rate, device)
    result = Trained(net, cfg, classes, {"train": len(train), "val": len(val)}, before, before)
    step, lr = 0, params.learning_rate
    for epoch in range(1, params.epochs + 1):
        net.train()
        sums = {"loss": 0.0, "box": 0.0, "obj": 0.0, "cls": 0.0}
        count = 0
        for images, targets in batches(train, classes, size, params.batch_size, params.seed, epoch):
            lr = learning_rate(step, total, params.learning_rate)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss, parts = train_step(net, optimizer, scaler, images, targets, ignore)
            step += 1
            count += 1
            result.seen += len(images)
            sums["loss"] += loss
            for name, value in parts.items():
                sums[name] += value
        scores = evaluate(net, val, classes, size, device)
        row = {"epoch": epoch, **{k: v / max(count, 1) for k, v in sums.items()}, "lr": lr,
               "map50": scores["map50"], "map": scores["map"]}
        result.history.append(row)
        result.after = scores
        on_epoch(row)
    net.eval()
    result.seconds = time.perf_counter() - started
    return result
