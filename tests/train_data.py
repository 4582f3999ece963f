"""A synthetic detection dataset in the split stage's layout: filled rectangles and discs at known boxes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from framehound.boxes import Box, format_labels

CLASSES = ["rectangle", "disc"]


def _frame(rng: np.random.Generator, width: int, height: int) -> tuple[np.ndarray, list[Box]]:
    """A noisy two-colour background with 1 to 3 shapes that do not overlap."""
    top, bottom = rng.integers(0, 256, (2, 3))
    ramp = np.linspace(0, 1, height)[:, None, None]
    image = (top * (1 - ramp) + bottom * ramp + rng.normal(0, 12, (height, width, 3))).clip(0, 255)
    image = np.ascontiguousarray(image.astype(np.uint8))
    boxes: list[Box] = []
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 2))
        w = h = int(rng.integers(18, 56))
        if kind == 0:
            w, h = int(w * rng.uniform(0.6, 1.4)), int(h * rng.uniform(0.6, 1.4))
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        box = Box(CLASSES[kind], x, y, x + w, y + h)
        if any(b.x_min < box.x_max + 2 and box.x_min < b.x_max + 2 and b.y_min < box.y_max + 2
               and box.y_min < b.y_max + 2 for b in boxes):
            continue
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if kind == 0:
            cv2.rectangle(image, (x, y), (x + w - 1, y + h - 1), colour, thickness=-1)
        else:
            cv2.circle(image, (x + w // 2, y + h // 2), w // 2, colour, thickness=-1, lineType=cv2.LINE_AA)
        boxes.append(box)
    return image, boxes


def write_dataset(root: Path, counts: dict[str, int], seed: int = 0, width: int = 192, height: int = 144) -> Path:
    """images/<split>/*.jpg, labels/<split>/*.txt, <split>.txt and obj.names under ``root``."""
    rng = np.random.default_rng(seed)
    for split, count in counts.items():
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        names = []
        for i in range(count):
            image, boxes = _frame(rng, width, height)
            name = f"{split}_{i:04d}"
            cv2.imwrite(str(root / "images" / split / f"{name}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            (root / "labels" / split / f"{name}.txt").write_text(format_labels(boxes, CLASSES, width, height))
            names.append(f"images/{split}/{name}.jpg\n")
        (root / f"{split}.txt").write_text("".join(names))
    (root / "obj.names").write_text("".join(f"{c}\n" for c in CLASSES))
    return root
