"""Box geometry shared by the dataset diff and the review metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def greedy_pairs(a: Sequence[Corners], b: Sequence[Corners], min_iou: float,
                 allowed: Callable[[int, int], bool] = lambda i, j: True) -> list[tuple[int, int, float]]:
    """``(i, j, iou)`` pairs of ``a[i]`` and ``b[j]``, best overlap first (ties by index), IoU >= ``min_iou``.

    Greedy, as detection metrics match: each box is in at most one pair, and
    only pairs that ``allowed`` admits are considered.
    """
    candidates = sorted((-iou(a[i], b[j]), i, j) for i in range(len(a)) for j in range(len(b)) if allowed(i, j))
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for negative_iou, i, j in candidates:
        if -negative_iou < min_iou:
            break
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j, -negative_iou))
    return pairs
