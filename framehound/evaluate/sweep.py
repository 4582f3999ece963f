"""Which confidence makes a box a label? Precision and recall of the detections at every threshold.

``filter.min_confidence`` is a trade: higher, fewer wrong labels and more
objects left unlabelled (masked, or missed). The right value depends on the
model, the passes and the footage, so it is read off the user's own ground
truth instead of guessed: every ground-truth image the run sampled is scored
with the detections of the dataset's classes at or above each threshold,
matched as ``scores`` matches labels (greedy IoU, ignore regions count for
nothing). The operating point for a target precision is the lowest threshold
that reaches it, where recall is highest.

The detections here are detect's, before filter's size, border and
completeness rules: the curve describes the labeler; ``metrics/quality.json``
describes the dataset those rules then make.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from framehound.boxes import boxes_by_frame
from framehound.evaluate.groundtruth import GroundTruth
from framehound.evaluate.scores import IOUS, score_image, summarize

THRESHOLDS = tuple(round(0.05 + 0.01 * i, 2) for i in range(91))   # 0.05 .. 0.95
COLUMNS = ["class_name", "threshold", "labels", "matched", "groundtruth_boxes", "precision", "recall", "f1",
           "precision@0.75", "mean_iou"]
ALL = "all"   # class_name of the rows over every scored class


def sweep(truth: GroundTruth, frames: pd.DataFrame, detections: pd.DataFrame, classes: list[str],
          thresholds: tuple[float, ...] = THRESHOLDS) -> pd.DataFrame:
    """One row per class (and ``all``) and threshold: the figures at IoU 0.5, precision at 0.75, mean IoU."""
    scored = [c for c in classes if c in truth.classes]
    sampled = frames[frames["frame_id"].isin(truth.sizes)].sort_values("frame_id")
    mine = detections[detections["frame_id"].isin(sampled["frame_id"]) & detections["class_name"].isin(scored)]
    by_frame = boxes_by_frame(mine)
    rows = []
    for threshold in thresholds:
        scores = []
        for frame in sampled.itertuples(index=False):
            size = (int(frame.width), int(frame.height))
            required, ignored = truth.boxes_on(frame.frame_id, *size)
            labels = [b for b in by_frame.get(frame.frame_id, []) if (b.confidence or 0.0) >= threshold]
            scores.append(score_image(frame.frame_id, required, ignored, labels, [], size, scored))
        summary = summarize(scores, scored)
        for name, figures in [(ALL, summary), *summary["classes"].items()]:
            rows.append(_row(name, threshold, scores, [name] if name != ALL else scored, figures))
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(name: str, threshold: float, scores: list, names: list[str], figures: dict) -> dict:
    low = IOUS[0]
    matched = sum(s.matched.get((n, low), 0) for s in scores for n in names)
    labels = sum(s.labels.get((n, low), 0) for s in scores for n in names)
    precision, recall = figures[f"precision@{low}"], figures[f"recall@{low}"]
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision and recall else 0.0
    ious = [v for s in scores for v in s.ious] if name == ALL else []
    return {"class_name": name, "threshold": threshold, "labels": labels, "matched": matched,
            "groundtruth_boxes": figures["groundtruth_boxes"], "precision": precision, "recall": recall, "f1": f1,
            "precision@0.75": figures[f"precision@{IOUS[1]}"],
            "mean_iou": round(float(np.mean(ious)), 4) if ious else None}


def operating_point(table: pd.DataFrame, target_precision: float, class_name: str = ALL) -> float | None:
    """The lowest threshold whose precision reaches ``target_precision`` (highest recall), or None."""
    rows = table[(table["class_name"] == class_name) & (table["precision"].fillna(0) >= target_precision)]
    return float(rows["threshold"].min()) if len(rows) else None


def best_f1(table: pd.DataFrame, class_name: str = ALL) -> pd.Series:
    """The row of the highest F1 (the lowest threshold among equals)."""
    rows = table[table["class_name"] == class_name]
    return rows.loc[rows["f1"].idxmax()]
