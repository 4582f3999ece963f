"""Per-frame perceptual hash and sharpness, and the rules that use them.

A still shot sampled at 1 fps yields many near-identical frames: they add no
information to a dataset and cost inference. A difference hash (dHash) is
robust to re-encoding noise and cheap; frames of one video whose hashes
differ in at most ``dedup_distance`` of 64 bits count as duplicates.
Sharpness is the variance of the Laplacian, the usual blur measure.
"""

from __future__ import annotations

import cv2
import numpy as np


def dhash(gray: np.ndarray) -> int:
    """64-bit difference hash: is each pixel brighter than its right neighbour, on a 9x8 thumbnail."""
    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(np.packbits(bits).view(">u8")[0])


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian: low for blurry or flat frames."""
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def near_duplicates(hashes: np.ndarray, max_distance: int) -> np.ndarray:
    """Mask of frames within ``max_distance`` bits of an earlier kept frame, in order.

    Greedy in time order: the first frame of a run of duplicates is kept.
    """
    values = hashes.astype(np.uint64)
    duplicate = np.zeros(len(values), dtype=bool)
    kept = np.empty(len(values), dtype=np.uint64)  # hashes of the kept frames, in kept[:count]
    count = 0
    for index, value in enumerate(values):
        if count and np.bitwise_count(kept[:count] ^ value).min() <= max_distance:
            duplicate[index] = True
        else:
            kept[count] = value
            count += 1
    return duplicate
