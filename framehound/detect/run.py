"""detect: run the model over every frame and write detections.parquet.

Reading and preprocessing the next frames happens on a worker thread while
the network runs on the current one (cv2 releases the GIL in both), so on CPU
the stage runs at the speed of the forward pass.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from framehound import tables
from framehound.atomic import atomic_path
from framehound.darknet.cfg import read_names
from framehound.detect.opencv_dnn import OpenCVDetector, choose_backend
from framehound.detect.postprocess import decode, nms_per_class
from framehound.errors import FramehoundError
from framehound.progress import progress

log = logging.getLogger("framehound")

PREFETCH = 4


def _load(detector: OpenCVDetector, path: str) -> tuple[np.ndarray | None, int, int]:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        return None, 0, 0
    return detector.blob(image), image.shape[1], image.shape[0]


def _prefetched(detector: OpenCVDetector, paths: list[str]) -> Iterator[tuple[np.ndarray | None, int, int]]:
    """Decoded blobs in order, up to PREFETCH frames ahead of the consumer."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = [pool.submit(_load, detector, p) for p in paths[:PREFETCH]]
        for index in range(len(paths)):
            result = pending[index].result()
            if index + PREFETCH < len(paths):
                pending.append(pool.submit(_load, detector, paths[index + PREFETCH]))
            pending[index] = None  # type: ignore[call-overload]  # free the blob
            yield result


def detect_frames(frames: pd.DataFrame, detector: OpenCVDetector, names: list[str],
                  conf_floor: float, nms_threshold: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Detections and undecodable-frame failures for the frames table."""
    parts: list[pd.DataFrame] = []
    failures: list[dict[str, str]] = []
    frame_ids = frames["frame_id"].tolist()
    batches = _prefetched(detector, frames["path"].tolist())
    for frame_id, (blob, width, height) in progress(zip(frame_ids, batches, strict=True), desc="detect",
                                                     total=len(frame_ids), unit="frame"):
        if blob is None:
            failures.append({"source": "detect", "target": frame_id, "reason": "image could not be decoded"})
            continue
        boxes = nms_per_class(decode(detector.infer(blob), width, height, conf_floor), nms_threshold)
        if len(boxes):
            parts.append(pd.DataFrame({
                "frame_id": frame_id,
                "class_id": boxes.class_id,
                "class_name": np.asarray(names, dtype=object)[boxes.class_id],
                # float64 before rounding, so stored values are the short decimals.
                "confidence": boxes.confidence.astype(np.float64).round(5),
                **{col: boxes.xyxy[:, i].astype(np.float64).round(2)
                   for i, col in enumerate(("x_min", "y_min", "x_max", "y_max"))},
            }))
    detections = pd.concat(parts, ignore_index=True) if parts else tables.empty(tables.DETECTIONS)
    return detections, pd.DataFrame(failures) if failures else tables.empty(tables.FAILURES)


def detect_all(params: dict[str, Any], model_dir: Path, frames_parquet: Path, out_dir: Path) -> str:
    """Run detection over all frames; write detections.parquet and failures.csv."""
    frames = tables.read_table(frames_parquet, tables.FRAMES)
    names = read_names((model_dir / "model.names").read_text(encoding="utf-8"))
    backend, why = choose_backend(params["backend"])
    log.info("backend=%s (%s)", backend, why)
    detector = OpenCVDetector(model_dir, params["input_size"], params["conf_floor"], backend)
    started = time.perf_counter()
    detections, failures = detect_frames(frames, detector, names,
                                         params["conf_floor"], params["nms_threshold"])
    rate = len(frames) / max(time.perf_counter() - started, 1e-9)
    if len(failures) == len(frames):
        raise FramehoundError(f"{frames_parquet}: none of the {len(frames)} frames could be decoded")
    with atomic_path(out_dir, directory=True) as staging:
        tables.write_table(detections, staging / "detections.parquet", tables.DETECTIONS)
        tables.write_table(failures, staging / "failures.csv", tables.FAILURES)
    return (f"{len(frames) - len(failures)} frames, {len(detections)} boxes, "
            f"{rate:.1f} frames/s, backend={backend}")
