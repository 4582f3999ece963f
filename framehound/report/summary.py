"""The figures of the report, computed from the stages' tables (not copied from metrics).

Computing them independently is what lets a test compare the page with
metrics/dataset.json and catch either one drifting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from framehound.split.assign import SPLITS

BINS = np.linspace(0, 1, 11)
SCREEN_RULES = ("blur", "duplicate", "undecodable")


@dataclass(frozen=True)
class Summary:
    """Everything the page shows, as plain tables."""

    classes: pd.DataFrame  # class, boxes, size histogram, confidence histogram
    videos: pd.DataFrame  # video_id, sampled, per-rule drops, kept, split
    splits: pd.DataFrame  # split, images, boxes per class, boxes, negatives


def split_of_videos(attribution: pd.DataFrame) -> dict[str, str]:
    """Split of each video with images in the dataset, read from attribution.csv's image paths."""
    return {v: PurePosixPath(image).parts[1] for v, image in zip(attribution["video_id"], attribution["image"],
                                                                  strict=True)}


def summarize(sampled: pd.DataFrame, quality: pd.DataFrame, frames: pd.DataFrame, labels: pd.DataFrame,
              split_of: dict[str, str], classes: list[str]) -> Summary:
    """Per-class, per-video and per-split figures of one run."""
    sizes = frames.set_index("frame_id")[["width", "height"]]
    joined = labels.join(sizes, on="frame_id")
    share = np.sqrt((joined["x_max"] - joined["x_min"]) * (joined["y_max"] - joined["y_min"])
                    / (joined["width"] * joined["height"]))
    per_class = pd.DataFrame([{
        "class": name,
        "boxes": int((labels["class_name"] == name).sum()),
        "sizes": np.histogram(share[labels["class_name"] == name].clip(0, 1), BINS)[0].tolist(),
        "confidences": np.histogram(labels.loc[labels["class_name"] == name, "confidence"].clip(0, 1),
                                    BINS)[0].tolist(),
    } for name in classes])

    video_ids = sorted(set(sampled["video_id"]) | set(frames["video_id"]))
    count = lambda table: table.groupby("video_id").size().reindex(video_ids, fill_value=0)  # noqa: E731
    screened_in = quality[quality["rejected_by"] == ""]
    videos = pd.DataFrame({"video_id": video_ids, "sampled": count(sampled).to_numpy()})
    for rule in SCREEN_RULES:
        videos[rule] = count(quality[quality["rejected_by"] == rule]).to_numpy()
    videos["kept"] = count(frames).to_numpy()
    videos["no_label"] = count(screened_in).to_numpy() - videos["kept"]
    videos["split"] = [split_of.get(v, "") for v in video_ids]

    frame_split = frames.set_index("frame_id")["video_id"].map(split_of)
    label_split = labels["frame_id"].map(frame_split)
    labelled = set(labels["frame_id"])
    rows = []
    for split in SPLITS:
        in_split = frame_split[frame_split == split].index
        row = {"split": split, "images": len(in_split)}
        row |= {name: int(((label_split == split) & (labels["class_name"] == name)).sum()) for name in classes}
        row |= {"boxes": int((label_split == split).sum()),
                "negatives": sum(1 for f in in_split if f not in labelled)}
        rows.append(row)
    return Summary(per_class, videos, pd.DataFrame(rows))
