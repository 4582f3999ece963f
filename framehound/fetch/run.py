"""fetch: turn ``fetch.sources`` into data/videos/ and the videos/failures tables."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import yt_dlp

from framehound import tables
from framehound.atomic import atomic_path
from framehound.errors import FramehoundError
from framehound.fetch.download import Downloaded, Failed, download_source, ydl_options
from framehound.fetch.ids import local_id
from framehound.fetch.sources import classify, expand_local, resolve_pkg
from framehound.hashing import sha256_file
from framehound.media.probe import probe_video
from framehound.progress import progress

log = logging.getLogger("framehound")


def _local_files(entry: str, kind: str) -> list[Path]:
    if kind == "pkg":
        path = resolve_pkg(entry)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist")
        return [path]
    files = expand_local(entry)
    if not files:
        raise FileNotFoundError("no video files match this path")
    return files


def _copy_local(entry: str, kind: str, home: Path, seen: set[str]) -> Iterator[Downloaded | Failed]:
    try:
        files = _local_files(entry, kind)
    except FileNotFoundError as exc:
        yield Failed(entry, entry, str(exc))
        return
    for file in files:
        digest = sha256_file(file)
        video_id = local_id(file.stem, digest)
        if video_id in seen:
            continue
        dest = home / f"{video_id}{file.suffix.lower()}"
        with atomic_path(dest) as tmp:
            shutil.copyfile(file, tmp)
        seen.add(video_id)
        # The entry, not the resolved absolute path: outputs must not depend on
        # where the package or repository happens to live on this machine.
        origin = entry if kind == "pkg" else file.as_posix()
        info = {"webpage_url": origin, "extractor": "local", "title": file.stem}
        yield Downloaded(video_id, dest, info)


def _row(source: str, item: Downloaded, root: Path, home: Path) -> dict[str, Any]:
    video = probe_video(item.path)
    info = item.info
    return {
        "id": item.id,
        "source": source,
        "webpage_url": info.get("webpage_url") or info.get("original_url") or "",
        "extractor": info.get("extractor_key") or info.get("extractor") or "",
        "title": info.get("title") or "",
        "uploader": info.get("uploader") or info.get("channel") or "",
        "license": info.get("license") or "",
        "duration": round(video.duration, 3),
        "width": video.width,
        "height": video.height,
        "fps": video.fps,
        "sha256": sha256_file(item.path),
        "path": (root / item.path.relative_to(home)).as_posix(),
    }


def fetch_videos(fetch: dict[str, Any], videos_dir: Path, tables_dir: Path) -> str:
    """Fetch every source into ``videos_dir``; write videos.csv and failures.csv.

    Raises FramehoundError (leaving the previous outputs untouched) only when
    no video at all could be fetched.
    """
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    seen: set[str] = set()
    with atomic_path(videos_dir, directory=True) as home, \
            atomic_path(tables_dir, directory=True) as table_home, \
            tempfile.TemporaryDirectory(dir=videos_dir.parent, prefix=".ytdlp-") as scratch:
        options = ydl_options(fetch, home, Path(scratch))
        with yt_dlp.YoutubeDL(options) as ydl:
            for entry in progress(fetch["sources"], desc="fetch", unit="source"):
                kind = classify(entry).kind
                items = (_copy_local(entry, kind, home, seen) if kind in {"pkg", "local"}
                         else download_source(ydl, entry, seen))
                for item in items:
                    if isinstance(item, Failed):
                        log.warning("failed %s: %s", item.target, item.reason)
                        failures.append(vars(item))
                        continue
                    try:
                        rows.append(_row(entry, item, videos_dir, home))
                    except FramehoundError as exc:
                        item.path.unlink()
                        seen.discard(item.id)
                        failures.append(vars(Failed(entry, item.id, f"corrupt video: {exc}")))
        if not rows:
            first = failures[0]["reason"] if failures else "no sources"
            raise FramehoundError(
                f"fetch.sources: no video could be fetched from {len(fetch['sources'])} "
                f"source(s); first failure: {first}"
            )
        tables.write_table(pd.DataFrame(rows), table_home / "videos.csv", tables.VIDEOS)
        failure_frame = pd.DataFrame(failures) if failures else tables.empty(tables.FAILURES)
        tables.write_table(failure_frame, table_home / "failures.csv", tables.FAILURES)
    total = sum(r["duration"] for r in rows)
    return f"{len(rows)} videos ({total / 60:.1f} min), {len(failures)} failed"
