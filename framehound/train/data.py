"""The split's images and YOLO labels as training batches, augmented with a seeded generator.

Frames are stretched to the square training size exactly as detect feeds the
network (``network_input``): no letterbox, so a box's normalized coordinates
do not change and the model learns the aspect distortion it will see. The
augmentations (random scale and translation, horizontal flip, HSV jitter) draw
from a generator seeded by (seed, epoch, image index): the same seed gives the
same batches in any process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from framehound.boxes import Box, parse_labels
from framehound.darknet.cfg import read_names
from framehound.detect.detector import network_input
from framehound.errors import FramehoundError

SCALE = 0.25       # random zoom in [1 - SCALE, 1 + SCALE]
TRANSLATE = 0.1    # random shift up to this fraction of the side
HSV_GAINS = (0.015, 0.5, 0.3)  # hue, saturation, value: multiplied by a factor in [1 - g, 1 + g]
MIN_VISIBLE = 0.25  # a box cut by the border keeps its label if this share of it is still in the frame
FILL = 114         # grey shown where a shift or zoom-out uncovers the canvas


@dataclass(frozen=True)
class Sample:
    """One labeled image of the split: its path and boxes in pixels of the original image."""

    path: Path
    width: int
    height: int
    boxes: list[Box]


def read_split(root: Path, split: str) -> tuple[list[str], list[Sample]]:
    """Class names (obj.names) and the images of ``root/images/<split>`` with ``labels/<split>`` boxes, by name."""
    names_file = root / "obj.names"
    if not names_file.is_file():
        raise FramehoundError(f"{names_file}: not found (run the split stage first)")
    classes = read_names(names_file.read_text(encoding="utf-8"))
    samples = []
    for image in sorted((root / "images" / split).glob("*.jpg")):
        label = root / "labels" / split / f"{image.stem}.txt"
        height, width = _size(image)
        try:
            boxes = parse_labels(label.read_text(encoding="utf-8") if label.is_file() else "", classes,
                                 width, height)
        except ValueError as exc:
            raise FramehoundError(f"{label}: {exc}") from None
        samples.append(Sample(image, width, height, boxes))
    return classes, samples


def _size(path: Path) -> tuple[int, int]:
    image = cv2.imread(str(path))
    if image is None:
        raise FramehoundError(f"{path}: not a readable image")
    return image.shape[:2]


def load_input(sample: Sample, size: int) -> np.ndarray:
    """The network input of a sample, (size, size, 3) uint8 RGB, as detect makes it."""
    return network_input(cv2.imread(str(sample.path)), size)


def normalized_boxes(sample: Sample, classes: list[str]) -> np.ndarray:
    """(B, 5) rows ``class, cx, cy, w, h`` as fractions of the image."""
    index = {name: i for i, name in enumerate(classes)}
    return np.array([(index[b.class_name], *b.center(sample.width, sample.height)) for b in sample.boxes],
                    np.float32).reshape(-1, 5)


def augment(image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random zoom and shift, horizontal flip and HSV jitter of an RGB input and its normalized boxes."""
    size = image.shape[0]
    zoom = rng.uniform(1 - SCALE, 1 + SCALE)
    dx, dy = rng.uniform(-TRANSLATE, TRANSLATE, 2) * size
    centre = size / 2
    matrix = np.array([[zoom, 0, centre * (1 - zoom) + dx], [0, zoom, centre * (1 - zoom) + dy]], np.float32)
    image = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=(FILL,) * 3)
    if len(boxes):
        cls, cx, cy, w, h = boxes.T
        x0, x1 = (cx - w / 2) * zoom + matrix[0, 2] / size, (cx + w / 2) * zoom + matrix[0, 2] / size
        y0, y1 = (cy - h / 2) * zoom + matrix[1, 2] / size, (cy + h / 2) * zoom + matrix[1, 2] / size
        full = (x1 - x0) * (y1 - y0)
        x0, x1, y0, y1 = (np.clip(v, 0, 1) for v in (x0, x1, y0, y1))
        keep = ((x1 - x0) * (y1 - y0) >= MIN_VISIBLE * full) & (x1 - x0 > 1 / size) & (y1 - y0 > 1 / size)
        boxes = np.stack([cls, (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], axis=1)[keep].astype(np.float32)
    if rng.random() < 0.5:
        image = image[:, ::-1]
        boxes = boxes.copy()
        boxes[:, 1] = 1 - boxes[:, 1]
    gains = 1 + rng.uniform(-1, 1, 3) * HSV_GAINS
    hsv = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] * gains[0]) % 180
    hsv[..., 1:] = np.clip(hsv[..., 1:] * gains[1:], 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB), boxes


def batches(samples: list[Sample], classes: list[str], size: int, batch_size: int, seed: int, epoch: int
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Shuffled, augmented batches of one epoch: (N, S, S, 3) uint8 and (M, 6) rows ``image, class, cx, cy, w, h``.

    The last, smaller batch is dropped when it has a single image (batch norm needs two).
    """
    order = np.random.default_rng([seed, epoch]).permutation(len(samples))
    for start in range(0, len(order), batch_size):
        chosen = order[start:start + batch_size]
        if len(chosen) < 2 and len(order) > 1:
            continue
        images, targets = [], []
        for slot, index in enumerate(chosen):
            rng = np.random.default_rng([seed, epoch, int(index)])
            image, boxes = augment(load_input(samples[index], size), normalized_boxes(samples[index], classes), rng)
            images.append(image)
            targets.append(np.concatenate([np.full((len(boxes), 1), slot, np.float32), boxes], axis=1))
        yield np.stack(images), np.concatenate(targets)
