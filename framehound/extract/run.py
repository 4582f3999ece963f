"""extract: frames of every fetched video into data/frames/ and frames.parquet."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from framehound import tables
from framehound.atomic import atomic_path
from framehound.errors import FramehoundError
from framehound.extract.frames import extract_frames
from framehound.params import ExtractParams
from framehound.progress import progress

log = logging.getLogger("framehound")


def extract_all(params: ExtractParams, videos_csv: Path, frames_dir: Path, tables_dir: Path) -> str:
    """Extract frames for every video in ``videos_csv``; skip undecodable ones with a reason."""
    videos = tables.read_table(videos_csv, tables.VIDEOS)
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    with atomic_path(frames_dir, directory=True) as staging, \
            atomic_path(tables_dir, directory=True) as table_home:
        for video in progress(videos.itertuples(index=False), desc="extract",
                              total=len(videos), unit="video"):
            folder = staging / video.id
            try:
                found = extract_frames(Path(video.path), video.id, folder, params)
            except FramehoundError as exc:
                log.warning("skipped %s: %s", video.id, exc)
                shutil.rmtree(folder, ignore_errors=True)
                skipped.append({"source": video.source, "target": video.id, "reason": str(exc)})
                continue
            for row in found:
                row["path"] = (frames_dir / row["path"].relative_to(staging)).as_posix()
            rows.extend(found)
        if not rows:
            raise FramehoundError(f"{videos_csv}: no frames could be extracted from any video")
        tables.write_table(pd.DataFrame(rows), table_home / "frames.parquet", tables.FRAMES)
        skipped_frame = pd.DataFrame(skipped) if skipped else tables.empty(tables.FAILURES)
        tables.write_table(skipped_frame, table_home / "skipped.csv", tables.FAILURES)
    return f"{len(rows)} frames from {len(videos) - len(skipped)} videos, {len(skipped)} skipped"
