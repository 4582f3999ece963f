"""Keep frames that show a requested class well enough; renumber the classes."""

from __future__ import annotations

from typing import Any

import pandas as pd

from framehound.errors import FramehoundError


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


def select_labels(detections: pd.DataFrame, frames: pd.DataFrame, params: dict[str, Any],
                  names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels (kept boxes) and the frames they belong to.

    A box is kept when its class is requested, its confidence reaches
    ``min_confidence`` and its area is at least ``min_box_area`` of the frame.
    A frame is kept when at least one of its boxes is.
    """
    indices = class_indices(params["classes"], names)
    boxes = detections.merge(frames[["frame_id", "video_id", "width", "height"]], on="frame_id")
    area = ((boxes["x_max"] - boxes["x_min"]) * (boxes["y_max"] - boxes["y_min"])
            / (boxes["width"] * boxes["height"]))
    keep = (boxes["class_name"].isin(indices)
            & (boxes["confidence"] >= params["min_confidence"])
            & (area >= params["min_box_area"]))
    labels = boxes[keep].copy()
    labels["class_index"] = labels["class_name"].map(indices).astype("int64")
    kept_frames = frames[frames["frame_id"].isin(labels["frame_id"])]
    return labels, kept_frames
