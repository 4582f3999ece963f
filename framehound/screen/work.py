"""Measuring a video's frames as a unit of work that travels by value (paths locally, bytes to remote workers)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from framehound.screen.quality import dhash, sharpness


@dataclass(frozen=True)
class MeasureTask:
    paths: tuple[str, ...] = ()     # files the worker can read...
    jpegs: tuple[bytes, ...] = ()   # ...or the files themselves


def measure_gray(gray: np.ndarray | None) -> tuple[str, float]:
    """(dhash as hex, sharpness) of a grayscale frame; ("", 0.0) when it could not be decoded."""
    if gray is None:
        return "", 0.0
    return f"{dhash(gray):016x}", round(sharpness(gray), 2)


def measure_frames(task: MeasureTask) -> list[tuple[str, float]]:
    """The measurements of every frame of ``task``, in order."""
    if task.paths:
        return [measure_gray(cv2.imread(p, cv2.IMREAD_GRAYSCALE)) for p in task.paths]
    return [measure_gray(cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_GRAYSCALE)) for j in task.jpegs]
