"""Which boxes become labels and which frames enter the dataset.

Rules run in a fixed order and each rejection is counted under the first
rule that rejects it, so the metrics say exactly what each threshold costs.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from framehound.errors import FramehoundError
from framehound.filter.completeness import OUTCOMES, UNLABELLED_COLUMNS, too_grey, tracked_misses, unlabelled
from framehound.params import FilterParams

BORDER_PX = 1.0  # a box within this distance of an edge is cut by the frame


@dataclass
class Selection:
    labels: pd.DataFrame       # kept boxes (LABELS columns)
    frames: pd.DataFrame       # kept frames, positives and negatives (FRAMES columns)
    rejected: dict[str, int]   # rule -> boxes or frames it rejected
    proposed: pd.DataFrame     # boxes that passed the box rules, before frame rules: what a reviewer is shown
    unlabelled: pd.DataFrame   # objects labelled frames would leave unlabelled, and what happened (completeness)
    removed: pd.DataFrame      # requested-class boxes a box rule removed, with the rule in ``reason``

    @property
    def negatives(self) -> int:
        """How many kept frames are background images: those without a kept box."""
        return len(self.frames) - self.labels["frame_id"].nunique()


def _near_miss(a: str, b: str) -> bool:
    """Is ``a`` likely a slip for ``b``? Equal but for case and separators (``Traffic_Light``), two
    neighbours swapped (``dgo``), a plural (``cars``), or, between names of four letters or more, one
    letter added, dropped or changed (``persn``, ``bicyle``). Short names a letter apart are often
    different words (``bat``, ``boat``), so they pass."""
    if _folded(a) == _folded(b) or a in (b + "s", b + "es") or b in (a + "s", a + "es"):
        return True
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and (a[diff[0]], a[diff[1]]) == (b[diff[1]], b[diff[0]]):
            return True
        return len(diff) == 1 and len(a) >= 4
    short, long = sorted((a, b), key=len)
    return len(short) >= 4 and len(long) == len(short) + 1 and any(
        long[:i] + long[i + 1:] == short for i in range(len(long)))


def _folded(name: str) -> str:
    return "".join(c for c in name.casefold() if c.isalnum())


def _suggestion(name: str, names: list[str]) -> str | None:
    """The known name ``name`` is most likely a typo of."""
    near = [n for n in names if _near_miss(name, n)]
    close = near or difflib.get_close_matches(name, names, n=1)
    return close[0] if close else None


def class_indices(requested: list[str], names: list[str], new: list[str] | tuple[str, ...] = ()) -> dict[str, int]:
    """Map each dataset class (``requested``, then ``new``) to 0..k-1 in that order.

    A requested name the model does not know is an error, with the known name
    it is likely a typo of: a typo would otherwise silently produce an empty
    dataset. A ``new`` name may be unknown to the model (people draw its
    boxes), but not a near miss of a known name: that is a typo as likely as a
    new class, and two classes a keystroke apart would trip reviewers too.
    """
    for name in requested:
        if name not in names:
            new = "a class the model does not know goes in filter.new_classes"
            guess = _suggestion(name, names)
            raise FramehoundError(f"filter.classes: unknown class {name!r} (did you mean {guess!r}? {new})" if guess
                                  else f"filter.classes: unknown class {name!r} ({new}); the model knows: "
                                  f"{', '.join(names)}")
    for name in new:
        near = [n for n in names if n != name and _near_miss(name, n)]
        if near and name not in names:
            raise FramehoundError(f"filter.new_classes: {name!r} is too close to the model's class {near[0]!r} "
                                  f"(did you mean {near[0]!r}? a new class needs a name of its own)")
    return {name: index for index, name in enumerate([*requested, *new])}


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


def _negatives(frames: pd.DataFrame, boxes: pd.DataFrame, labels: pd.DataFrame, labelled: pd.DataFrame,
               positives: int, params: FilterParams) -> pd.DataFrame:
    """Background frames, sampled with the seed: no requested class at or above the negative bar, and nothing
    the completeness policy would mask, drop or hold (a tracked miss: the object labelled just before and after).

    ``params`` keeps the negative bar at or below ``incomplete_confidence``, so no box below it is unlabelled.
    """
    wanted = round(params.negatives_ratio * positives)
    if wanted == 0:
        return frames.iloc[0:0]
    busy = boxes.loc[boxes["confidence"] >= params.negative_max_confidence, "frame_id"]
    candidates = frames[~frames["frame_id"].isin(busy)]
    missed = tracked_misses(labels, pd.concat([labelled, candidates]))["frame_id"]
    candidates = candidates[~candidates["frame_id"].isin(missed)].sort_values("frame_id")
    rng = np.random.default_rng(params.seed)
    chosen = rng.choice(len(candidates), size=min(wanted, len(candidates)), replace=False)
    return candidates.iloc[np.sort(chosen)]


def select(detections: pd.DataFrame, frames: pd.DataFrame, params: FilterParams, names: list[str]) -> Selection:
    """Apply the box rules, then the frame rules, then the completeness policy, then add negatives."""
    indices = class_indices(params.classes, names, params.new_classes)
    boxes = detections[detections["class_name"].isin(indices)].merge(
        frames[["frame_id", "video_id", "width", "height"]], on="frame_id")
    rejected: dict[str, int] = {}
    removed = []
    alive = pd.Series(True, index=boxes.index)
    for rule, mask in _box_rules(boxes, params):
        rejected[rule] = int((alive & mask).sum())
        removed.append(boxes[alive & mask].assign(reason=rule))
        alive &= ~mask
    labels = proposed = boxes[alive].copy()
    labels["class_index"] = labels["class_name"].map(indices).astype("int64")
    crowded = pd.Series(dtype=object)
    if params.max_boxes_per_frame is not None:
        counts = labels["frame_id"].value_counts()
        crowded = counts.index[counts > params.max_boxes_per_frame]
        labels = labels[~labels["frame_id"].isin(crowded)]
    rejected["too_many_boxes"] = len(crowded)
    removed_boxes = pd.concat(removed, ignore_index=True)
    missing = unlabelled(removed_boxes, labels, frames, params.min_confidence,
                         params.incomplete_confidence).assign(outcome=OUTCOMES[params.incomplete])
    left_out = set(missing["frame_id"]) if params.incomplete in ("drop", "review") else set()
    if params.incomplete == "mask":
        left_out = too_grey(missing, labels, frames, params.max_grey)
        missing.loc[missing["frame_id"].isin(left_out), "outcome"] = OUTCOMES["drop"]
    labels = labels[~labels["frame_id"].isin(left_out)]
    positives = frames[frames["frame_id"].isin(labels["frame_id"])]
    # A labelled frame is never a negative, even when negative_max_confidence exceeds min_confidence.
    unlabelled_frames = frames[~frames["frame_id"].isin(crowded) & ~frames["frame_id"].isin(labels["frame_id"])
                               & ~frames["frame_id"].isin(left_out)]
    negatives = _negatives(unlabelled_frames, boxes, labels, positives, len(positives), params)
    kept = pd.concat([positives, negatives]).sort_values("frame_id")
    return Selection(labels, kept, rejected, proposed, missing[list(UNLABELLED_COLUMNS)], removed_boxes)
