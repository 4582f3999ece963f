"""detect: run the model over every frame and write detections.parquet.

Frames are read, decoded and resized on worker threads while the network runs
(cv2 releases the GIL), a bounded number ahead, so on CPU the stage runs at the
speed of the forward pass and memory stays flat whatever the frame count. The
summary says how much of the wall time the network was busy: near 100%, the
network is the wall; well under, reading and decoding JPEGs is (more cores help).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from framehound import tables
from framehound.atomic import atomic_path
from framehound.darknet.cfg import read_names
from framehound.detect.backends import build_detector, choose_backend
from framehound.detect.cache import COLUMNS, cache_key, check_writable, empty_cache, load_cache, save_cache, save_part
from framehound.detect.detector import Detector, network_input
from framehound.detect.postprocess import BoxColumns, decode, nms_per_class
from framehound.detect.remote import detect_on_actors, start_actors
from framehound.errors import FramehoundError
from framehound.executor import RayCluster
from framehound.params import DetectParams
from framehound.progress import progress
from framehound.shards import frame_ranges, read_jpeg

log = logging.getLogger("framehound")


@dataclass
class Frame:
    """One frame after loading: ``pixels`` is None when cached or undecodable."""

    frame_id: str
    sha256: str
    width: int = 0
    height: int = 0
    pixels: np.ndarray | None = None
    error: str = ""


def _load(detector: Detector, frame_id: str, shard: str, offset: int, size: int, digest: str,
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
    return Frame(frame_id, digest, image.shape[1], image.shape[0], network_input(image, detector.input_size))


def _loaded(detector: Detector, frames: pd.DataFrame, known: frozenset[str]) -> Iterator[Frame]:
    """Frames in table order, loaded by a thread pool a bounded distance ahead."""
    # One core is left to the network; on a GPU machine the rest decode JPEGs,
    # which is the wall there (the network is far faster than decoding).
    workers = max(1, min(16, (os.cpu_count() or 2) - 1))
    ahead = max(8, 2 * detector.batch_size)
    jobs = ((f, *r) for f, r in zip(frames["frame_id"], frame_ranges(frames), strict=True))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = deque(pool.submit(_load, detector, *job, known) for job in islice(jobs, ahead))
        while pending:
            frame = pending.popleft().result()
            for job in islice(jobs, 1):
                pending.append(pool.submit(_load, detector, *job, known))
            yield frame


def _batches(frames: Iterable[Frame], size: int) -> Iterator[list[Frame]]:
    """Groups of frames that need inference; other frames pass through alone."""
    batch: list[Frame] = []
    for frame in frames:
        if frame.pixels is None:
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

    def add(self, frame: Frame, raw: np.ndarray, conf_floor: float, nms_threshold: float) -> None:
        found = nms_per_class(decode(raw, frame.width, frame.height, conf_floor), nms_threshold)
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


def detect_frames(frames: pd.DataFrame, detector: Detector, names: list[str], conf_floor: float,
                  nms_threshold: float, cache: pd.DataFrame | None = None,
                  checkpoint: Checkpoint | None = None) -> DetectResult:
    """Detections for the frames table, reusing ``cache`` rows by frame hash."""
    cache = cache if cache is not None else empty_cache()
    known = frozenset(cache["frame_sha256"])
    fresh, committed = _Rows(), []
    last_commit = time.monotonic()
    hashes: list[tuple[str, str]] = []
    failures: list[dict[str, str]] = []
    inferred, network_s = 0, 0.0
    loaded = progress(_loaded(detector, frames, known), desc="detect", total=len(frames), unit="frame")
    for batch in _batches(loaded, detector.batch_size):
        if batch[0].error:
            failures.append({"source": "detect", "target": batch[0].frame_id, "reason": batch[0].error})
            continue
        hashes.extend((f.frame_id, f.sha256) for f in batch)
        if batch[0].pixels is None:
            continue
        pixels = batch[0].pixels[np.newaxis] if len(batch) == 1 else np.stack([f.pixels for f in batch])
        started = time.perf_counter()
        outputs = detector.infer(pixels, min_objectness=conf_floor)
        network_s += time.perf_counter() - started
        for frame, raw in zip(batch, outputs, strict=True):
            fresh.add(frame, raw, conf_floor, nms_threshold)
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
    return DetectResult(detections, failure_frame, merged_cache, inferred, network_s)


def detect_all(params: DetectParams, model_dir: Path, frames_parquet: Path, out_dir: Path,
               cache_dir: Path, cluster: RayCluster | None = None) -> str:
    """Run detection over all frames; write detections.parquet, failures.csv and the cache.

    With a Ray ``cluster``, the frames not in the cache are detected on its
    actor pool first, each batch committed as a checkpoint part; the local
    pass below then finds them cached, so both paths write the same outputs.
    """
    frames = tables.read_table(frames_parquet, tables.FRAMES)
    check_writable(cache_dir)
    names = read_names((model_dir / "model.names").read_text(encoding="utf-8"))
    backend, why = choose_backend(params.backend)
    actors, remote = start_actors(cluster.ray, model_dir, params) if cluster else ([], "")
    detector = build_detector(backend, model_dir, params)
    backend_name = remote or detector.name
    log.info("backend=%s (%s)", backend_name, f"on {cluster.where}" if cluster else why)
    # The model stage recorded the files' checksums: no need to re-read 35+ MB of weights.
    model = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))["files"]
    # The runtime names what ran: its version and, for OpenVINO, the digest of the model it compiled.
    runtime = getattr(detector, "runtime", backend_name)
    key = cache_key({"cfg": model["cfg"]["sha256"], "weights": model["weights"]["sha256"],
                     "input_size": params.input_size, "conf_floor": params.conf_floor,
                     "nms_threshold": params.nms_threshold, "backend": backend_name, "runtime": runtime})
    started = time.perf_counter()
    cache, inferred_remotely = load_cache(cache_dir, key), 0
    if actors:
        todo = frames[~frames["sha256"].isin(cache["frame_sha256"])]
        for rows in detect_on_actors(actors, todo, 8 * params.batch_size):
            save_part(cache_dir, key, rows)
            inferred_remotely += rows["frame_sha256"].nunique()
        cache = load_cache(cache_dir, key)
    result = detect_frames(frames, detector, names, params.conf_floor, params.nms_threshold, cache,
                           Checkpoint(lambda rows: save_part(cache_dir, key, rows), params.checkpoint_seconds))
    result.inferred += inferred_remotely
    elapsed = max(time.perf_counter() - started, 1e-9)
    if len(result.failures) == len(frames):
        raise FramehoundError(f"{frames_parquet}: none of the {len(frames)} frames could be decoded")
    with atomic_path(out_dir, directory=True) as staging:
        tables.write_table(result.detections, staging / "detections.parquet", tables.DETECTIONS)
        tables.write_table(result.failures, staging / "failures.csv", tables.FAILURES)
        (staging / "runtime.json").write_text(json.dumps({"backend": backend_name, "runtime": runtime}) + "\n")
    save_cache(cache_dir, key, result.cache)
    done = len(frames) - len(result.failures)
    busy = "" if cluster else f" (network busy {result.network_s / elapsed:.0%})"
    speed = f"{result.inferred / elapsed:.1f} frames/s{busy}, " if result.inferred else ""
    return (f"{done} frames ({result.inferred} inferred, {done - result.inferred} cached), "
            f"{len(result.detections)} boxes, {speed}backend={backend_name}"
            + (f"; {cluster.where}" if cluster else ""))
