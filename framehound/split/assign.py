"""Splits: whole videos assigned to train/val/test, and the frames of a split with their boxes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

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


def frames_with_boxes(frames: pd.DataFrame, labels: pd.DataFrame, split_of: dict[str, str],
                      split: str) -> Iterator[tuple[Any, pd.DataFrame]]:
    """Frames of ``split`` by frame id, each with its boxes in the order every export lists them."""
    ordered = labels.sort_values(["frame_id", "class_index", "confidence", "x_min"],
                                 ascending=[True, True, False, True], kind="mergesort")
    by_frame = dict(iter(ordered.groupby("frame_id", sort=False)))
    for frame in frames.sort_values("frame_id", kind="mergesort").itertuples(index=False):
        if split_of[frame.video_id] == split:
            yield frame, by_frame.get(frame.frame_id, ordered.iloc[0:0])
