"""extract: frames of every fetched video into data/frames/ and frames.parquet, paying only for what changed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from framehound import tables
from framehound.atomic import atomic_path
from framehound.errors import FramehoundError
from framehound.executor import Executor
from framehound.extract.store import FrameStore, video_key
from framehound.extract.work import VideoTask, extract_video
from framehound.hashing import sha256_file
from framehound.media.binaries import locate
from framehound.params import ExtractParams

log = logging.getLogger("framehound")


def _measured_size(video: Any) -> tuple[int, int] | None:
    """The (width, height) fetch recorded for a videos-table row; None when it has none (a hand-made table)."""
    try:
        size = int(video.width), int(video.height)
    except (TypeError, ValueError):  # empty or NaN
        return None
    return size if min(size) > 0 else None


def _measured_duration(video: Any) -> float | None:
    """The seconds fetch recorded for a videos-table row; None when it has none (a hand-made table)."""
    try:
        duration = float(video.duration)
    except (TypeError, ValueError):
        return None
    return duration if duration > 0 else None


def extract_all(params: ExtractParams, videos_csv: Path, frames_dir: Path, tables_dir: Path,
                executor: Executor, ship_videos: bool = False) -> str:
    """Extract the videos whose frames are missing or stale; write the tables for all of them.

    Undecodable videos are skipped with a reason. ``ship_videos`` sends each
    video's bytes to the worker instead of its path (workers without the checkout).
    """
    videos = tables.read_table(videos_csv, tables.VIDEOS)
    locate()  # says once which ffmpeg runs (workers keep quiet), or fails here if there is none
    store = FrameStore(frames_dir)
    removed = store.keep_only(set(videos["id"]))
    # fetch records every video's sha256; a table written by hand may not.
    keys = {v.id: video_key(v.sha256 or sha256_file(v.path), params) for v in videos.itertuples(index=False)}
    stored = {video_id: store.rows(video_id, key) for video_id, key in keys.items()}
    todo = [v for v in videos.itertuples(index=False) if stored[v.id] is None]
    tasks = [VideoTask(v.id, params, v.path, Path(v.path).read_bytes() if ship_videos else b"", _measured_size(v),
                       _measured_duration(v)) for v in todo]
    skipped: dict[str, str] = {}
    spread = 0
    for result in executor.map(extract_video, tasks, desc="extract", unit="video"):
        if result.spread:
            log.info("%s: longer than extract.max_frames_per_video allows at this rate: %s", result.video_id,
                     result.spread)
            spread += 1
        if result.error:
            log.warning("skipped %s: %s", result.video_id, result.error)
            store.drop(result.video_id)
            skipped[result.video_id] = result.error
        else:
            stored[result.video_id] = store.save(result, keys[result.video_id])
    rows: list[dict[str, Any]] = []
    failures = []
    for video in videos.itertuples(index=False):
        if video.id in skipped:
            failures.append({"source": video.source, "target": video.id, "reason": skipped[video.id]})
        else:
            rows.extend(stored[video.id] or [])
    if not rows:
        raise FramehoundError(f"{videos_csv}: no frames could be extracted from any video")
    with atomic_path(tables_dir, directory=True) as table_home:
        tables.write_table(pd.DataFrame(rows), table_home / "frames.parquet", tables.FRAMES)
        skipped_frame = pd.DataFrame(failures) if failures else tables.empty(tables.FAILURES)
        tables.write_table(skipped_frame, table_home / "skipped.csv", tables.FAILURES)
    reused = len(videos) - len(todo)
    gone = f", {removed} removed" if removed else ""
    gone += f", {len(store.damaged)} damaged and extracted again" if store.damaged else ""
    gone += f", {spread} spread over their whole length" if spread else ""
    return (f"{len(rows)} frames from {len(videos) - len(skipped)} videos ({len(todo) - len(skipped)} extracted, "
            f"{reused} unchanged{gone}), {len(skipped)} skipped; {executor.where}")
