"""Measuring a video's frames as a unit of work that travels by value (byte ranges locally, bytes to remote workers)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from framehound.screen.quality import dhash, sharpness
from framehound.shards import read_jpeg


@dataclass(frozen=True)
class MeasureTask:
    ranges: tuple[tuple[str, int, int, str], ...] = ()  # (shard, offset, size, sha256) the worker reads...
    jpegs: tuple[bytes, ...] = ()                  # ...or the JPEGs themselves


def measure_gray(gray: np.ndarray | None) -> tuple[str, float]:
    """(dhash as hex, sharpness) of a grayscale frame; ("", 0.0) when it could not be decoded."""
    if gray is None:
        return "", 0.0
    return f"{dhash(gray):016x}", round(sharpness(gray), 2)


def measure_frames(task: MeasureTask) -> list[tuple[str, float]]:
    """The measurements of every frame of ``task``, in order."""
    jpegs = task.jpegs or (read_jpeg(*r) for r in task.ranges)
    return [measure_gray(cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_GRAYSCALE) if j else None)
            for j in jpegs]

