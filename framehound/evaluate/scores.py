"""Score a dataset's labels against ground truth, image by image.

Matching is greedy by IoU within a class, as detection metrics match. A label
that matches no required box but sits on an ignored one (IoU at the
threshold, or half of it inside a crowd region) is neither right nor wrong.
A required box mostly hidden by the dataset's grey masks is no longer in the
image: it is counted as masked, not as missed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from framehound.boxes import Box, greedy_pairs, inside_share, iou
from framehound.filter.completeness import mask_raster

IOUS = (0.5, 0.75)
MASKED_SHARE = 0.5  # a required box this much under the masks is hidden


@dataclass
class ImageScore:
    """One ground-truth image of the dataset: counts per class and IoU threshold, and what went wrong."""

    frame_id: str
    required: dict[str, int] = field(default_factory=dict)          # class -> required boxes (not masked)
    labels: dict[tuple[str, float], int] = field(default_factory=dict)   # (class, iou) -> labels that count
    matched: dict[tuple[str, float], int] = field(default_factory=dict)  # (class, iou) -> true positives
    ious: list[float] = field(default_factory=list)                 # IoU of each match at the lowest threshold
    masked: int = 0
    grey: float = 0.0                                               # share of the image's pixels masked
    missed: list[Box] = field(default_factory=list)                 # required boxes without a label (lowest IoU)
    wrong: list[Box] = field(default_factory=list)                  # labels on nothing (lowest IoU)

    @property
    def complete(self) -> bool:
        """Every required object has a label."""
        return not self.missed


def _on_ignored(label: Box, ignored: list[Box], threshold: float) -> bool:
    return any(b.class_name == label.class_name and (iou(label, b) >= threshold or inside_share(label, b) >= 0.5)
               for b in ignored)


def score_image(frame_id: str, required: list[Box], ignored: list[Box], labels: list[Box], masks: list[Box],
                size: tuple[int, int], classes: list[str]) -> ImageScore:
    """Score one image's ``labels`` against its ground truth; ``masks`` are the regions the dataset greyed out."""
    score = ImageScore(frame_id)
    hidden = mask_raster(size[0], size[1], masks, labels) if masks else None
    score.grey = float(hidden.mean()) if hidden is not None else 0.0
    visible = []
    for box in required:
        if hidden is not None and _hidden_share(box, hidden) >= MASKED_SHARE:
            score.masked += 1
        else:
            visible.append(box)
    for name in classes:
        truth = [b for b in visible if b.class_name == name]
        mine = [b for b in labels if b.class_name == name]
        score.required[name] = len(truth)
        for threshold in IOUS:
            pairs = greedy_pairs(mine, truth, threshold)
            paired = {i for i, _, _ in pairs}
            spare = [b for i, b in enumerate(mine) if i not in paired and not _on_ignored(b, ignored, threshold)]
            score.labels[name, threshold] = len(pairs) + len(spare)
            score.matched[name, threshold] = len(pairs)
            if threshold == IOUS[0]:
                score.ious += [overlap for _, _, overlap in pairs]
                found = {j for _, j, _ in pairs}
                score.missed += [b for j, b in enumerate(truth) if j not in found]
                score.wrong += spare
    return score


def _hidden_share(box: Box, hidden: np.ndarray) -> float:
    x0, y0 = max(0, round(box.x_min)), max(0, round(box.y_min))
    x1, y1 = min(hidden.shape[1], round(box.x_max)), min(hidden.shape[0], round(box.y_max))
    if x1 <= x0 or y1 <= y0:
        return 0.0
    return float(hidden[y0:y1, x0:x1].mean())


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def summarize(scores: list[ImageScore], classes: list[str]) -> dict:
    """Per-class and overall precision and recall at each IoU, mean IoU of matches, complete-image rate."""

    def figures(names: list[str]) -> dict:
        out: dict = {"groundtruth_boxes": sum(s.required.get(n, 0) for s in scores for n in names)}
        for threshold in IOUS:
            matched = sum(s.matched.get((n, threshold), 0) for s in scores for n in names)
            labels = sum(s.labels.get((n, threshold), 0) for s in scores for n in names)
            out[f"precision@{threshold}"] = _ratio(matched, labels)
            out[f"recall@{threshold}"] = _ratio(matched, out["groundtruth_boxes"])
        return out

    ious = [v for s in scores for v in s.ious]
    overall = figures(classes)
    masked = sum(s.masked for s in scores)
    seen = overall["groundtruth_boxes"] + masked
    matched = sum(s.matched.get((n, IOUS[0]), 0) for s in scores for n in classes)
    greys = [s.grey for s in scores]
    return {
        "images": len(scores),
        "complete_images": sum(s.complete for s in scores),
        "complete_image_rate": _ratio(sum(s.complete for s in scores), len(scores)),
        **overall,
        "mean_iou": round(float(np.mean(ious)), 4) if ious else None,
        "masked_objects": masked,
        # A masked object is no error, but no label either: what a trainer learns of it is nothing.
        f"recall@{IOUS[0]}_counting_masked": _ratio(matched, seen),
        "masked_object_share": _ratio(masked, seen),
        "grey_mean": round(float(np.mean(greys)), 4) if greys else None,
        "grey_max": round(float(np.max(greys)), 4) if greys else None,
        "classes": {name: figures([name]) for name in classes},
    }
