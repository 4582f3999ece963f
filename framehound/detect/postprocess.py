"""Turn raw YOLO outputs into pixel boxes: vectorized, no per-row Python loops.

Boxes here stay columnar (``BoxColumns``): a frame yields thousands of
candidates, and decoding and NMS over numpy arrays is what keeps detect fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class BoxColumns:
    """Detections of one frame: the columnar form of ``framehound.boxes.Box`` rows.

    Parallel arrays, one entry a box: ``class_id`` (the model's class index,
    named later), ``confidence``, and ``xyxy`` as x_min, y_min, x_max, y_max
    pixels, the corners of a ``Box``; the detections table is made of them.
    """

    class_id: np.ndarray
    confidence: np.ndarray
    xyxy: np.ndarray

    def __len__(self) -> int:
        return len(self.class_id)


def decode(rows: np.ndarray, width: int, height: int, conf_floor: float) -> BoxColumns:
    """Candidates above ``conf_floor`` from YOLO rows ``[cx, cy, w, h, obj, class scores…]``.

    Coordinates are fractions of the (stretched) network input, so they map to
    the frame by its width and height (``Box.from_center``, for all rows at
    once). A row yields one candidate per class over the floor, as Darknet
    does, so a box can compete in several classes.
    """
    scores = rows[:, 5:]
    row_idx, class_idx = np.nonzero(scores >= conf_floor)
    geometry = rows[row_idx, :4]
    half_w, half_h = geometry[:, 2] / 2, geometry[:, 3] / 2
    xyxy = np.stack([
        (geometry[:, 0] - half_w) * width, (geometry[:, 1] - half_h) * height,
        (geometry[:, 0] + half_w) * width, (geometry[:, 1] + half_h) * height,
    ], axis=1)
    np.clip(xyxy, 0, [width, height, width, height], out=xyxy)
    return BoxColumns(class_idx.astype(np.int32), scores[row_idx, class_idx].astype(np.float32),
                      xyxy.astype(np.float32))


def nms_per_class(boxes: BoxColumns, iou_threshold: float) -> BoxColumns:
    """Non-maximum suppression within each class (OpenCV's batched NMS, in C++)."""
    if len(boxes) == 0:
        return boxes
    xywh = boxes.xyxy.copy()
    xywh[:, 2:] -= xywh[:, :2]
    keep = cv2.dnn.NMSBoxesBatched(xywh.tolist(), boxes.confidence.tolist(),
                                   boxes.class_id.tolist(), 0.0, iou_threshold)
    keep = np.sort(np.asarray(keep, dtype=np.int64).reshape(-1))
    return BoxColumns(boxes.class_id[keep], boxes.confidence[keep], boxes.xyxy[keep])
