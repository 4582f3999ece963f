"""Weighted box fusion: one frame's boxes from several passes become one box per object.

NMS keeps the single most confident box of a cluster and throws the others
away; WBF (Solovyev et al., 2021) averages the corners of every box of the
cluster, weighted by confidence, so the passes' errors cancel and edges land
closer (on the ground truth, mean IoU 0.74 -> 0.83, docs/quality.md). A fused
box's confidence is its cluster's mean confidence times the share of passes
that found it: an object one view in four sees is a weak box.

Our own small implementation, not the ``ensemble-boxes`` package (MIT): its
import pulls numba and its JIT compiler into every detect worker, for a loop
of a few hundred boxes a frame. This one follows its default (``conf_type
'avg'``, equal pass weights), vectorised over the clusters: each box is
compared with every cluster of its class in one numpy step.
"""

from __future__ import annotations

import numpy as np

from framehound.detect.postprocess import BoxColumns


def _iou_one_to_many(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box with each row of ``others``."""
    x0, y0 = np.maximum(box[0], others[:, 0]), np.maximum(box[1], others[:, 1])
    x1, y1 = np.minimum(box[2], others[:, 2]), np.minimum(box[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def _fuse_class(xyxy: np.ndarray, confidence: np.ndarray, iou_threshold: float,
                passes: int) -> tuple[np.ndarray, np.ndarray]:
    """Fused corners and confidences of one class's boxes, given most confident first."""
    fused = np.empty((0, 4), np.float64)
    weight_sum = np.empty(0, np.float64)     # sum of confidences of each cluster
    corner_sum = np.empty((0, 4), np.float64)  # confidence-weighted sum of corners
    count = np.empty(0, np.int64)
    for box, conf in zip(xyxy, confidence, strict=True):
        overlap = _iou_one_to_many(box, fused) if len(fused) else np.empty(0)
        best = int(np.argmax(overlap)) if len(overlap) else -1
        if best >= 0 and overlap[best] > iou_threshold:
            weight_sum[best] += conf
            corner_sum[best] += conf * box
            count[best] += 1
            fused[best] = corner_sum[best] / weight_sum[best]
        else:
            fused = np.vstack([fused, box])
            weight_sum = np.append(weight_sum, conf)
            corner_sum = np.vstack([corner_sum, conf * box])
            count = np.append(count, 1)
    return fused, weight_sum / count * np.minimum(count, passes) / passes


def weighted_box_fusion(per_pass: list[BoxColumns], iou_threshold: float) -> BoxColumns:
    """One box per object from the boxes of every pass (each already through NMS), deterministic.

    Boxes are taken most confident first, ties broken by pass and then row order, so the
    same inputs always give the same clusters.
    """
    if len(per_pass) == 1:
        return per_pass[0]
    class_id = np.concatenate([p.class_id for p in per_pass])
    confidence = np.concatenate([p.confidence for p in per_pass]).astype(np.float64)
    xyxy = np.concatenate([p.xyxy for p in per_pass]).astype(np.float64)
    order = np.lexsort((np.arange(len(class_id)), -confidence))
    out_class, out_conf, out_xyxy = [], [], []
    for cls in np.unique(class_id):
        mine = order[class_id[order] == cls]
        boxes, scores = _fuse_class(xyxy[mine], confidence[mine], iou_threshold, len(per_pass))
        out_class.append(np.full(len(scores), cls, np.int32))
        out_conf.append(scores)
        out_xyxy.append(boxes)
    if not out_class:
        return BoxColumns(np.empty(0, np.int32), np.empty(0, np.float32), np.empty((0, 4), np.float32))
    return BoxColumns(np.concatenate(out_class), np.concatenate(out_conf).astype(np.float32),
                      np.concatenate(out_xyxy).astype(np.float32))
