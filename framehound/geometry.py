"""Box geometry shared by the dataset diff and the review metrics."""

from __future__ import annotations

from typing import Protocol


class Corners(Protocol):
    x_min: float
    y_min: float
    x_max: float
    y_max: float


def iou(a: Corners, b: Corners) -> float:
    """Intersection over union of two pixel boxes (0 when they do not overlap)."""
    width = min(a.x_max, b.x_max) - max(a.x_min, b.x_min)
    height = min(a.y_max, b.y_max) - max(a.y_min, b.y_min)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a.x_max - a.x_min) * (a.y_max - a.y_min) + (b.x_max - b.x_min) * (b.y_max - b.y_min) - inter
    return inter / union
