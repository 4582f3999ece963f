"""Dataset metrics and plot data that `dvc metrics` / `dvc plots` show and diff."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from framehound.atomic import atomic_path
from framehound.split.assign import SPLITS


def dataset_metrics(frames: pd.DataFrame, labels: pd.DataFrame, split_of: dict[str, str],
                    classes: list[str]) -> dict:
    """Images, boxes per class, videos per split; mean boxes per image."""
    frame_split = frames.set_index("frame_id")["video_id"].map(split_of)
    label_split = labels["frame_id"].map(frame_split)
    images = {s: int((frame_split == s).sum()) for s in SPLITS}
    boxes = {s: {c: int(((label_split == s) & (labels["class_name"] == c)).sum()) for c in classes}
             for s in SPLITS}
    videos = {s: sum(1 for v in set(frames["video_id"]) if split_of[v] == s) for s in SPLITS}
    total = sum(images.values())
    return {
        "images": images | {"total": total},
        "negatives": int(total - labels["frame_id"].nunique()),
        "boxes": boxes,
        "boxes_total": len(labels),
        "mean_boxes_per_image": round(len(labels) / total, 4) if total else 0.0,
        "videos": videos,
    }


def _histogram(values: np.ndarray, edges: np.ndarray, column: str) -> pd.DataFrame:
    counts, _ = np.histogram(values, bins=edges)
    labels = [f"{lo:.2f}-{hi:.2f}" for lo, hi in pairwise(edges)]
    return pd.DataFrame({column: labels, "boxes": counts})


def plot_tables(frames: pd.DataFrame, labels: pd.DataFrame, classes: list[str]) -> dict[str, pd.DataFrame]:
    """Class histogram, box-size distribution (sqrt of area share) and confidence histogram."""
    sizes = frames.set_index("frame_id")[["width", "height"]]
    joined = labels.join(sizes, on="frame_id")
    share = ((joined["x_max"] - joined["x_min"]) * (joined["y_max"] - joined["y_min"])
             / (joined["width"] * joined["height"]))
    counts = labels["class_name"].value_counts().reindex(classes, fill_value=0)
    return {
        "classes.csv": pd.DataFrame({"class": classes, "boxes": counts.to_numpy()}),
        "box_sizes.csv": _histogram(np.sqrt(share.to_numpy()), np.linspace(0, 1, 21), "relative_size"),
        "confidence.csv": _histogram(labels["confidence"].to_numpy(), np.linspace(0, 1, 21), "confidence"),
    }


def write_plots(folder: Path, plots: dict[str, pd.DataFrame]) -> None:
    """Plot data as CSV files in ``folder``, each replaced atomically; other files there (train's) stay."""
    for name, table in plots.items():
        with atomic_path(folder / name) as tmp:
            table.to_csv(tmp, index=False, lineterminator="\n")
