"""Detection of a frames table: frames decoded ahead on threads, the labeler's passes run in batches.

Frames are read, decoded and resized (once per input size) on worker threads
while the network runs (cv2 releases the GIL), a bounded number ahead, so on
CPU the stage runs at the speed of the forward passes and memory stays flat
whatever the frame count. Both the local stage and a Ray actor run this.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice

import cv2
import numpy as np
import pandas as pd

from framehound import tables
from framehound.detect.cache import COLUMNS, empty_cache
from framehound.detect.labeler import Labeler
from framehound.detect.postprocess import BoxColumns
from framehound.progress import progress
from framehound.shards import frame_ranges, read_jpeg


@dataclass
class Frame:
    """One frame after loading: ``inputs`` (its network input per (size, letterbox) view) is None when cached or
    undecodable."""

    frame_id: str
    sha256: str
    width: int = 0
    height: int = 0
    inputs: dict[tuple[int, bool], np.ndarray] | None = None
    error: str = ""


def _load(labeler: Labeler, frame_id: str, shard: str, offset: int, size: int, digest: str,
          known: frozenset[str]) -> Frame:
    """A frame ready for inference; a cached one (by the hash extract recorded) is not even read.

    A frame that is not the one extract recorded stops the stage (``read_jpeg``); one extract recorded
    that does not decode is a failure of that frame only.
    """
    if digest in known:
        return Frame(frame_id, digest)
    data = read_jpeg(shard, offset, size, digest)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        return Frame(frame_id, digest, error="image could not be decoded")
    return Frame(frame_id, digest, image.shape[1], image.shape[0], labeler.inputs(image))


def _loaded(labeler: Labeler, frames: pd.DataFrame, known: frozenset[str]) -> Iterator[Frame]:
    """Frames in table order, loaded by a thread pool a bounded distance ahead."""
    # One core is left to the network; on a GPU machine the rest decode JPEGs,
    # which is the wall there (the network is far faster than decoding).
    workers = max(1, min(16, (os.cpu_count() or 2) - 1))
    ahead = max(8, 2 * labeler.batch_size)
    jobs = ((f, *r) for f, r in zip(frames["frame_id"], frame_ranges(frames), strict=True))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = deque(pool.submit(_load, labeler, *job, known) for job in islice(jobs, ahead))
        while pending:
            frame = pending.popleft().result()
            for job in islice(jobs, 1):
                pending.append(pool.submit(_load, labeler, *job, known))
            yield frame


def _batches(frames: Iterable[Frame], size: int) -> Iterator[list[Frame]]:
    """Groups of frames that need inference; other frames pass through alone."""
    batch: list[Frame] = []
    for frame in frames:
        if frame.inputs is None:
            yield [frame]
            continue
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Rows:
    """Detections accumulated as numpy chunks: one DataFrame at the end, not one per frame."""

    def __init__(self) -> None:
        self.hashes: list[np.ndarray] = []
        self.class_ids: list[np.ndarray] = []
        self.confidences: list[np.ndarray] = []
        self.boxes: list[np.ndarray] = []

    def add(self, frame: Frame, found: BoxColumns) -> None:
        if not len(found):  # a sentinel row: processed, nothing found
            found = BoxColumns(np.array([-1], np.int32), np.zeros(1, np.float32), np.zeros((1, 4), np.float32))
        self.hashes.append(np.full(len(found), frame.sha256, dtype=object))
        self.class_ids.append(found.class_id)
        self.confidences.append(found.confidence)
        self.boxes.append(found.xyxy)

    def frame(self) -> pd.DataFrame:
        if not self.hashes:
            return empty_cache()
        # float64 before rounding, so stored values are the short decimals.
        xyxy = np.concatenate(self.boxes).astype(np.float64).round(2)
        return pd.DataFrame({
            "frame_sha256": np.concatenate(self.hashes),
            "class_id": np.concatenate(self.class_ids).astype(np.int64),
            "confidence": np.concatenate(self.confidences).astype(np.float64).round(5),
            **{col: xyxy[:, i] for i, col in enumerate(("x_min", "y_min", "x_max", "y_max"))},
        })


@dataclass
class DetectResult:
    detections: pd.DataFrame
    failures: pd.DataFrame
    cache: pd.DataFrame
    inferred: int
    network_s: float  # time inside ``infer``: near the wall time, the network is the bottleneck


@dataclass
class Checkpoint:
    """Commit new rows every ``seconds`` through ``save`` (0: after every batch)."""

    save: Callable[[pd.DataFrame], None]
    seconds: float


def detect_frames(frames: pd.DataFrame, labeler: Labeler, names: list[str], cache: pd.DataFrame | None = None,
                  checkpoint: Checkpoint | None = None) -> DetectResult:
    """Detections for the frames table, reusing ``cache`` rows by frame hash."""
    cache = cache if cache is not None else empty_cache()
    known = frozenset(cache["frame_sha256"])
    fresh, committed = _Rows(), []
    last_commit = time.monotonic()
    hashes: list[tuple[str, str]] = []
    failures: list[dict[str, str]] = []
    inferred, network_before = 0, labeler.network_s
    loaded = progress(_loaded(labeler, frames, known), desc="detect", total=len(frames), unit="frame")
    for batch in _batches(loaded, labeler.batch_size):
        if batch[0].error:
            failures.append({"source": "detect", "target": batch[0].frame_id, "reason": batch[0].error})
            continue
        hashes.extend((f.frame_id, f.sha256) for f in batch)
        if batch[0].inputs is None:
            continue
        found = labeler.label([f.inputs for f in batch], [(f.width, f.height) for f in batch])
        for frame, boxes in zip(batch, found, strict=True):
            fresh.add(frame, boxes)
        inferred += len(batch)
        if checkpoint and time.monotonic() - last_commit >= checkpoint.seconds:
            committed.append(fresh.frame())
            checkpoint.save(committed[-1])
            fresh, last_commit = _Rows(), time.monotonic()
    present = pd.DataFrame(hashes, columns=["frame_id", "frame_sha256"])
    merged_cache = pd.concat([cache[cache["frame_sha256"].isin(present["frame_sha256"])], *committed,
                              fresh.frame()], ignore_index=True).drop_duplicates(["frame_sha256", *COLUMNS[1:]])
    detections = present.merge(merged_cache[merged_cache["class_id"] >= 0], on="frame_sha256")
    detections["class_id"] = detections["class_id"].astype(np.int64)
    detections["class_name"] = np.asarray(names, dtype=object)[detections["class_id"].to_numpy()]
    failure_frame = pd.DataFrame(failures) if failures else tables.empty(tables.FAILURES)
    return DetectResult(detections, failure_frame, merged_cache, inferred, labeler.network_s - network_before)
