"""Parity with OpenCV DNN, shared by the backends' tests (the frames and OpenCV's rows: conftest's fixtures).

Needs no PyTorch, so the OpenVINO tests run where it is not installed.
"""

from __future__ import annotations

import numpy as np

from framehound.detect.postprocess import BoxColumns, decode, nms_per_class

SIZE = 416


def detections(rows: np.ndarray, width: int, height: int) -> BoxColumns:
    return nms_per_class(decode(rows, width, height, conf_floor=0.1), 0.45)


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    top_left = np.maximum(box[:2], others[:, :2])
    bottom_right = np.minimum(box[2:], others[:, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    return inter / (area + np.prod(others[:, 2:] - others[:, :2], axis=1) - inter)


def _unmatched(found: BoxColumns, reference: BoxColumns) -> list[str]:
    """Boxes of ``found`` (confidence >= 0.2) with no same-class twin in ``reference``."""
    missing = []
    for cls, conf, box in zip(found.class_id, found.confidence, found.xyxy, strict=True):
        if conf < 0.2:
            continue
        same = reference.class_id == cls
        twins = (iou(box, reference.xyxy[same]) >= 0.95) & (np.abs(reference.confidence[same] - conf) <= 0.02)
        if not twins.any():
            missing.append(f"class {cls} conf {conf:.3f} at {box.round(1).tolist()}")
    return missing


def assert_rows_match_opencv(rows: list[np.ndarray], opencv_rows: list[np.ndarray]) -> None:
    """Every raw row of every frame within 1e-4 of OpenCV's (another backend's tests use it too)."""
    assert [r.shape for r in rows] == [r.shape for r in opencv_rows] and len(rows) == 20
    np.testing.assert_allclose(np.stack(rows), np.stack(opencv_rows), rtol=0, atol=1e-4)


def assert_detections_match_opencv(images: list[np.ndarray], rows: list[np.ndarray],
                                   opencv_rows: list[np.ndarray]) -> None:
    """Each box (confidence >= 0.2) has a twin in OpenCV's detections, and the other way round."""
    found = 0
    for image, ours, theirs in zip(images, rows, opencv_rows, strict=True):
        height, width = image.shape[:2]
        our_boxes, opencv_boxes = detections(ours, width, height), detections(theirs, width, height)
        assert _unmatched(opencv_boxes, our_boxes) == []
        assert _unmatched(our_boxes, opencv_boxes) == []
        found += int((opencv_boxes.confidence >= 0.2).sum())
    assert found >= 20  # the comparison is not vacuous


