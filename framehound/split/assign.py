"""Splits: whole videos assigned to train/val/test, and the frames of a split with their boxes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")


def assign_videos(frames_per_video: dict[str, int], ratios: dict[str, float], seed: int) -> dict[str, str]:
    """Map each video id to a split, matching the ratios in frames as well as whole videos allow.

    Videos are shuffled with ``seed`` (after sorting, so the input order never
    matters), then each goes to the split furthest below its target share.
    With at least as many videos as splits of non-zero ratio, none of those
    splits stays empty: an empty val or test set costs more than a ratio
    matched a little less closely.
    """
    order = sorted(frames_per_video)
    np.random.default_rng(seed).shuffle(order)
    total = sum(frames_per_video.values())
    assigned = dict.fromkeys(SPLITS, 0)
    result: dict[str, str] = {}
    open_splits = [s for s in SPLITS if ratios[s] > 0]
    for video in order:
        split = max(open_splits, key=lambda s: (ratios[s] * total - assigned[s], -SPLITS.index(s)))
        assigned[split] += frames_per_video[video]
        result[video] = split
    for empty in [s for s in open_splits if s not in result.values()]:
        donors = [s for s in open_splits if list(result.values()).count(s) > 1]
        if not donors:
            break
        donor = max(donors, key=lambda s: (assigned[s] - ratios[s] * total, -SPLITS.index(s)))
        video = min((v for v in order if result[v] == donor), key=frames_per_video.__getitem__)  # first of equals
        result[video] = empty
        assigned[donor] -= frames_per_video[video]
        assigned[empty] += frames_per_video[video]
    return result


def assign_groups(frames_per_video: dict[str, int], group_of: dict[str, str], ratios: dict[str, float],
                  seed: int) -> dict[str, str]:
    """Map each video to a split with every video of its content group in the same one.

    A video alone in its group is assigned exactly as ``assign_videos`` would assign it.
    """
    group = {video: group_of.get(video, video) for video in frames_per_video}
    per_group: dict[str, int] = {}
    for video, count in frames_per_video.items():
        per_group[group[video]] = per_group.get(group[video], 0) + count
    split_of_group = assign_videos(per_group, ratios, seed)
    return {video: split_of_group[group[video]] for video in frames_per_video}


# Per split, its frames by frame id, each with its boxes in the order every export lists them.
Walk = dict[str, list[tuple[Any, pd.DataFrame]]]


def split_walk(frames: pd.DataFrame, labels: pd.DataFrame, split_of: dict[str, str]) -> Walk:
    """The frames of every split by frame id, each with its boxes (by class, best confidence first).

    Labels are sorted and grouped once: every export writes from this one walk.
    """
    ordered = labels.sort_values(["frame_id", "class_index", "confidence", "x_min"],
                                 ascending=[True, True, False, True], kind="mergesort")
    by_frame = dict(iter(ordered.groupby("frame_id", sort=False)))
    no_boxes = ordered.iloc[0:0]
    walk: Walk = {split: [] for split in SPLITS}
    for frame in frames.sort_values("frame_id", kind="mergesort").itertuples(index=False):
        walk[split_of[frame.video_id]].append((frame, by_frame.get(frame.frame_id, no_boxes)))
    return walk
