"""Complete images: find the objects of the requested classes a labelled image would leave unlabelled.

A detector trained on an image learns that everything without a box is
background, so one unlabelled person teaches it that people are background:
an incomplete image is worse than no image. An object is *unlabelled* when
the detector (or the frames around it) says it is there but the dataset has
no box for it:

- ``low_confidence``: a box between ``filter.incomplete_confidence`` and
  ``filter.min_confidence``;
- ``small_box``, ``large_box``, ``border_box``: a box confident enough, but
  removed by that size or border rule;
- ``tracked_miss``: an object labelled in the sampled frames just before and
  just after (same class, overlapping), with no label where it should be in
  this one: the detector missed it here.

A candidate mostly inside a label of its class is the same object seen twice
(a half-body box beside the whole one), not a second object.

``filter.incomplete`` decides what happens to an image with unlabelled
objects: ``mask`` fills their boxes (outside every label) with grey so the
image holds no unlabelled object, ``drop`` leaves the image out, ``review``
holds it out until a person decides (``framehound review`` queues it first),
``keep`` only counts it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from framehound.boxes import Box, boxes_by_frame, inside_share, iou
from framehound.tables import UNLABELLED

OUTCOMES = {"mask": "masked", "drop": "dropped", "review": "held", "keep": "kept"}
UNLABELLED_COLUMNS = tuple(UNLABELLED.columns)
REASONS = ("low_confidence", "small_box", "large_box", "border_box", "tracked_miss")
SAME_OBJECT_SHARE = 0.8   # a candidate this much inside a same-class label is that label's object
TRACK_IOU = 0.3           # neighbours' boxes overlapping this much are one object; a label this close covers it
MASK_GREY = 114           # the fill of masked regions (the grey YOLO trainers pad images with)


def tracked_misses(labels: pd.DataFrame, frames: pd.DataFrame) -> pd.DataFrame:
    """Boxes where an object labelled in both neighbouring sampled frames of a video has no label.

    The expected box is the neighbours' boxes interpolated to the frame's time.
    """
    by_frame = boxes_by_frame(labels)
    rows = []
    for video_id, group in frames.sort_values(["video_id", "t_ms", "frame_id"]).groupby("video_id", sort=True):
        ids, times = list(group["frame_id"]), list(group["t_ms"])
        for i in range(1, len(ids) - 1):
            before, after, here = by_frame.get(ids[i - 1], []), by_frame.get(ids[i + 1], []), by_frame.get(ids[i], [])
            share = (times[i] - times[i - 1]) / max(times[i + 1] - times[i - 1], 1)
            for a in before:
                partners = [b for b in after if b.class_name == a.class_name and iou(a, b) >= TRACK_IOU]
                if not partners:
                    continue
                b = max(partners, key=lambda p: iou(a, p))
                expected = Box(a.class_name, *(x + share * (y - x) for x, y in zip(
                    (a.x_min, a.y_min, a.x_max, a.y_max), (b.x_min, b.y_min, b.x_max, b.y_max), strict=True)))
                if any(h.class_name == a.class_name and iou(h, expected) >= TRACK_IOU for h in here):
                    continue
                rows.append({"frame_id": ids[i], "video_id": video_id, "class_name": a.class_name,
                             "confidence": 0.0, "x_min": expected.x_min, "y_min": expected.y_min,
                             "x_max": expected.x_max, "y_max": expected.y_max, "reason": "tracked_miss"})
    return pd.DataFrame(rows, columns=[*UNLABELLED_COLUMNS[:-1]])


def unlabelled(rejected: pd.DataFrame, labels: pd.DataFrame, frames: pd.DataFrame, min_confidence: float,
               incomplete_confidence: float, labelled: set[str] | None = None) -> pd.DataFrame:
    """The unlabelled objects of the labelled frames (without ``outcome``), one row each.

    ``rejected`` holds the requested-class boxes a box rule removed, with the
    rule's name in ``reason``; ``labels`` the boxes that became labels;
    ``labelled`` the frames to look at (default: those with a label; a frame
    a person accepted without a box is labelled too).
    """
    labelled = set(labels["frame_id"]) if labelled is None else labelled
    low = rejected["reason"] == "low_confidence"
    wanted = rejected[rejected["frame_id"].isin(labelled)
                      & ((low & (rejected["confidence"] >= incomplete_confidence))
                         | (~low & (rejected["confidence"] >= min_confidence)))]
    misses = tracked_misses(labels, frames[frames["frame_id"].isin(labelled)])
    candidates = pd.concat([wanted[list(UNLABELLED_COLUMNS[:-1])], misses], ignore_index=True)
    by_frame = boxes_by_frame(labels)
    keep = [not any(b.class_name == row.class_name and inside_share(Box.from_row(row), b) >= SAME_OBJECT_SHARE
                    for b in by_frame.get(row.frame_id, []))
            for row in candidates.itertuples(index=False)]
    return candidates[np.array(keep, dtype=bool)].reset_index(drop=True)


def mask_raster(width: int, height: int, regions: list[Box], labels: list[Box]) -> np.ndarray:
    """Which pixels masking fills: those of ``regions`` outside every label's box (a label is never painted over)."""
    fill = np.zeros((height, width), bool)
    for box in regions:
        fill[_pixels(box, width, height)] = True
    for box in labels:
        fill[_pixels(box, width, height)] = False
    return fill


def mask_regions(image: np.ndarray, regions: list[Box], labels: list[Box]) -> np.ndarray:
    """``image`` with ``regions`` filled grey outside every label's box."""
    masked = image.copy()
    masked[mask_raster(image.shape[1], image.shape[0], regions, labels)] = MASK_GREY
    return masked


def _pixels(box: Box, width: int, height: int) -> tuple[slice, slice]:
    """Rows and columns of the pixels a box covers (any part of), clipped to the image."""
    x0, y0 = max(0, int(np.floor(box.x_min))), max(0, int(np.floor(box.y_min)))
    x1, y1 = min(width, int(np.ceil(box.x_max))), min(height, int(np.ceil(box.y_max)))
    return slice(y0, max(y0, y1)), slice(x0, max(x0, x1))


def grey_shares(unlabelled: pd.DataFrame, labels: pd.DataFrame, frames: pd.DataFrame) -> pd.Series:
    """Share of each kept image's pixels that masking fills (0 for an image without masks), by frame id.

    Grey is not free: a trainer sees no object there, but no background either, and a large grey
    block is an input the detector never meets at inference.
    """
    masked, boxes = boxes_by_frame(unlabelled[unlabelled["outcome"] == "masked"]), boxes_by_frame(labels)
    shares = {}
    for frame in frames.itertuples(index=False):
        regions = masked.get(frame.frame_id)
        shares[frame.frame_id] = (float(mask_raster(int(frame.width), int(frame.height), regions,
                                                    boxes.get(frame.frame_id, [])).mean()) if regions else 0.0)
    return pd.Series(shares, dtype="float64")


def too_grey(unlabelled: pd.DataFrame, labels: pd.DataFrame, frames: pd.DataFrame, max_grey: float) -> set[str]:
    """Frames whose masks would grey more than ``max_grey`` of them: dropped instead (``filter.max_grey``).

    An image mostly grey teaches little and looks like no frame the detector meets, whoever boxed it.
    """
    grey = grey_shares(unlabelled, labels, frames[frames["frame_id"].isin(unlabelled["frame_id"])])
    return set(grey.index[grey > max_grey])


def incompleteness(unlabelled: pd.DataFrame, policy: str, labels: pd.DataFrame, frames: pd.DataFrame) -> dict[str, Any]:
    """metrics/filter.json's ``incomplete``: unlabelled objects per reason, images per outcome, and how grey the
    labelled images of ``frames`` (the kept ones) are."""
    images = unlabelled.drop_duplicates("frame_id")["outcome"].value_counts()
    grey = grey_shares(unlabelled, labels, frames[frames["frame_id"].isin(labels["frame_id"])])
    return {"policy": policy,
            "objects": {r: int((unlabelled["reason"] == r).sum()) for r in REASONS},
            "images": {o: int(images.get(o, 0)) for o in (*OUTCOMES.values(), "dismissed")},
            "grey": {"mean": round(float(grey.mean()), 4) if len(grey) else 0.0,
                     "max": round(float(grey.max()), 4) if len(grey) else 0.0}}
