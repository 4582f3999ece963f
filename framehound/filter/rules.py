"""Which boxes become labels and which frames enter the dataset.

Rules run in a fixed order and each rejection is counted under the first
rule that rejects it, so the metrics say exactly what each threshold costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from framehound.errors import FramehoundError
from framehound.params import FilterParams

BORDER_PX = 1.0  # a box within this distance of an edge is cut by the frame


@dataclass
class Selection:
    labels: pd.DataFrame       # kept boxes (LABELS columns)
    frames: pd.DataFrame       # kept frames, positives and negatives (FRAMES columns)
    rejected: dict[str, int]   # rule -> boxes or frames it rejected
    proposed: pd.DataFrame     # boxes that passed the box rules, before frame rules: what a reviewer is shown

    @property
    def negatives(self) -> int:
        """How many kept frames are background images: those without a kept box."""
        return len(self.frames) - self.labels["frame_id"].nunique()


def class_indices(requested: list[str], names: list[str]) -> dict[str, int]:
    """Map each requested class name to 0..k-1 in the order given.

    An unknown name is an error that lists the valid ones, since a typo would
    otherwise silently produce an empty dataset.
    """
    unknown = [c for c in requested if c not in names]
    if unknown:
        raise FramehoundError(
            f"filter.classes: unknown class {unknown[0]!r}; the model knows: {', '.join(names)}"
        )
    return {name: index for index, name in enumerate(requested)}


def _box_rules(boxes: pd.DataFrame, params: FilterParams) -> list[tuple[str, pd.Series]]:
    """(rule name, mask of boxes it rejects), in the order they apply."""
    area = ((boxes["x_max"] - boxes["x_min"]) * (boxes["y_max"] - boxes["y_min"])
            / (boxes["width"] * boxes["height"]))
    rules = [
        ("low_confidence", boxes["confidence"] < params.min_confidence),
        ("small_box", area < params.min_box_area),
        ("large_box", area > params.max_box_area),
    ]
    if params.drop_border_boxes:
        cut = ((boxes["x_min"] <= BORDER_PX) | (boxes["y_min"] <= BORDER_PX)
               | (boxes["x_max"] >= boxes["width"] - BORDER_PX) | (boxes["y_max"] >= boxes["height"] - BORDER_PX))
        rules.append(("border_box", cut))
    return rules


def _negatives(frames: pd.DataFrame, boxes: pd.DataFrame, positives: int, params: FilterParams) -> pd.DataFrame:
    """Background frames: no requested class above the negative bar, sampled with the seed."""
    wanted = round(params.negatives_ratio * positives)
    if wanted == 0:
        return frames.iloc[0:0]
    busy = boxes.loc[boxes["confidence"] >= params.negative_max_confidence, "frame_id"]
    candidates = frames[~frames["frame_id"].isin(busy)].sort_values("frame_id")
    rng = np.random.default_rng(params.seed)
    chosen = rng.choice(len(candidates), size=min(wanted, len(candidates)), replace=False)
    return candidates.iloc[np.sort(chosen)]


def select(detections: pd.DataFrame, frames: pd.DataFrame, params: FilterParams, names: list[str]) -> Selection:
    """Apply the box rules, then the frame rules, then add negatives."""
    indices = class_indices(params.classes, names)
    boxes = detections[detections["class_name"].isin(indices)].merge(
        frames[["frame_id", "video_id", "width", "height"]], on="frame_id")
    rejected: dict[str, int] = {}
    alive = pd.Series(True, index=boxes.index)
    for rule, mask in _box_rules(boxes, params):
        rejected[rule] = int((alive & mask).sum())
        alive &= ~mask
    labels = proposed = boxes[alive].copy()
    labels["class_index"] = labels["class_name"].map(indices).astype("int64")
    crowded = pd.Series(dtype=object)
    if params.max_boxes_per_frame is not None:
        counts = labels["frame_id"].value_counts()
        crowded = counts.index[counts > params.max_boxes_per_frame]
        labels = labels[~labels["frame_id"].isin(crowded)]
    rejected["too_many_boxes"] = len(crowded)
    positives = frames[frames["frame_id"].isin(labels["frame_id"])]
    # A labelled frame is never a negative, even when negative_max_confidence exceeds min_confidence.
    unlabelled = frames[~frames["frame_id"].isin(crowded) & ~frames["frame_id"].isin(labels["frame_id"])]
    negatives = _negatives(unlabelled, boxes, len(positives), params)
    kept = pd.concat([positives, negatives]).sort_values("frame_id")
    return Selection(labels, kept, rejected, proposed)
