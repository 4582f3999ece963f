"""detect: run the labeler over every frame and write detections.parquet.

The work itself is ``inference.detect_frames``; this module picks the
backend, keys and keeps the cache, and farms frames out to Ray when asked.
The summary says how much of the wall time the network was busy: near 100%,
the network is the wall; well under, reading and decoding JPEGs is (more
cores help).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from framehound import tables
from framehound.atomic import atomic_path
from framehound.darknet.cfg import read_names
from framehound.detect.backends import choose_backend
from framehound.detect.cache import cache_key, check_writable, load_cache, save_cache, save_part
from framehound.detect.inference import Checkpoint, detect_frames
from framehound.detect.labeler import Labeler
from framehound.detect.remote import detect_on_actors, start_actors
from framehound.errors import FramehoundError
from framehound.executor import RayCluster
from framehound.params import DetectParams

log = logging.getLogger("framehound")


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
    labeler = Labeler.build(backend, model_dir, params)
    backend_name = remote or labeler.name
    log.info("backend=%s (%s)", backend_name, f"on {cluster.where}" if cluster else why)
    # The model stage recorded the files' checksums: no need to re-read 35+ MB of weights.
    model = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))["files"]
    # The runtime names what ran: its version and, for OpenVINO, the digest of the model it compiled.
    runtime = labeler.runtime or backend_name
    key = cache_key({"cfg": model["cfg"]["sha256"], "weights": model["weights"]["sha256"],
                     "input_size": params.input_size, "conf_floor": params.conf_floor,
                     "nms_threshold": params.nms_threshold, "backend": backend_name, "runtime": runtime,
                     **labeler.settings()})
    started = time.perf_counter()
    cache, inferred_remotely = load_cache(cache_dir, key), 0
    if actors:
        todo = frames[~frames["sha256"].isin(cache["frame_sha256"])]
        for rows in detect_on_actors(actors, todo, 8 * params.batch_size):
            save_part(cache_dir, key, rows)
            inferred_remotely += rows["frame_sha256"].nunique()
        cache = load_cache(cache_dir, key)
    result = detect_frames(frames, labeler, names, cache,
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
            f"{len(result.detections)} boxes, {speed}backend={backend_name}, {labeler.describe()}"
            + (f"; {cluster.where}" if cluster else ""))
