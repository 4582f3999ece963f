"""Assign whole videos to splits, so near-identical frames never leak across them."""

from __future__ import annotations

import numpy as np

SPLITS = ("train", "val", "test")


def assign_videos(frames_per_video: dict[str, int], ratios: dict[str, float], seed: int) -> dict[str, str]:
    """Map each video id to a split, matching the ratios in frames as well as whole videos allow.

    Videos are shuffled with ``seed`` (after sorting, so the input order never
    matters), then each goes to the split furthest below its target share.
    """
    order = sorted(frames_per_video)
    np.random.default_rng(seed).shuffle(order)
    total = sum(frames_per_video.values())
    assigned = dict.fromkeys(SPLITS, 0)
    result: dict[str, str] = {}
    for video in order:
        open_splits = [s for s in SPLITS if ratios[s] > 0]
        split = max(open_splits, key=lambda s: (ratios[s] * total - assigned[s], -SPLITS.index(s)))
        assigned[split] += frames_per_video[video]
        result[video] = split
    return result
