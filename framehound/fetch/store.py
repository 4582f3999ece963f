"""data/videos/: the persistent store of fetched videos and what each source yielded.

DVC deletes a stage's outputs before running it, unless they are declared
``persist: true``; this folder is, so videos survive reruns and a rerun only
downloads what is new. A video counts only when both its media file and its
``<id>.json`` record exist: the record is written last, atomically, so a run
killed mid-download leaves no video that looks complete, and the next run
cleans up and fetches it again.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from framehound.atomic import write_json
from framehound.hashing import sha256_file
from framehound.sealed import read_record, seal_record

log = logging.getLogger("framehound")

RESOLVED = ".resolved"  # what each source yielded; ids never start with "."
TEMP = ".tmp"           # yt-dlp's working folder


class VideoStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / RESOLVED).mkdir(parents=True, exist_ok=True)

    @property
    def temp(self) -> Path:
        path = self.folder / TEMP
        path.mkdir(exist_ok=True)
        return path

    def clean(self) -> None:
        """Remove leftovers of an interrupted run: temp files and media without a record."""
        shutil.rmtree(self.folder / TEMP, ignore_errors=True)
        records = {p.stem for p in self.folder.glob("*.json")}
        for path in self.folder.iterdir():
            if path.is_file() and (path.name.startswith(".") or path.stem not in records):
                path.unlink()

    def records(self) -> dict[str, dict[str, Any]]:
        """Complete, intact videos: id -> provenance record.

        A record that is unreadable or not what was written, or a media file
        whose sha256 differs from its record's, is damaged: both go (one line
        each), and the run fetches the video again.
        """
        found = {}
        for record_path in sorted(self.folder.glob("*.json")):
            record = read_record(record_path)
            media = self.folder / str((record or {}).get("file"))
            if record is None or not isinstance(record.get("file"), str) or "sha256" not in record:
                self._discard(record_path, "its record is unreadable or not what was written")
            elif not media.is_file():
                continue
            elif sha256_file(media) != record["sha256"]:
                self._discard(record_path, f"{media.name}'s sha256 differs from its record's")
            else:
                found[record_path.stem] = record
        return found

    def _discard(self, record_path: Path, why: str) -> None:
        log.warning("%s: damaged (%s); fetching it again", record_path.with_suffix(""), why)
        for path in self.folder.iterdir():
            if path.is_file() and path.stem == record_path.stem:  # the record and its media
                path.unlink()

    def add(self, video_id: str, media: Path, record: dict[str, Any]) -> dict[str, Any]:
        """Move ``media`` in as ``<id><suffix>`` and commit it with its record; return the stored record."""
        target = self.folder / f"{video_id}{media.suffix.lower()}"
        os.replace(media, target)
        stored = {**record, "file": target.name}
        write_json(self.folder / f"{video_id}.json", seal_record(stored))
        return stored

    def remove(self, video_id: str, record: dict[str, Any]) -> None:
        """Forget a video (e.g. its source was removed, or a takedown request); ``record`` is its stored record."""
        (self.folder / f"{video_id}.json").unlink(missing_ok=True)
        (self.folder / record["file"]).unlink(missing_ok=True)

    def resolution(self, key: str) -> dict[str, Any] | None:
        """What the source ``key`` yielded last time; None when unknown or damaged (then it is resolved again)."""
        path = self.folder / RESOLVED / f"{key}.json"
        return read_record(path) if path.is_file() else None

    def save_resolution(self, key: str, outcome: dict[str, Any]) -> None:
        write_json(self.folder / RESOLVED / f"{key}.json", seal_record(outcome))

    def prune_resolutions(self, keep: set[str]) -> None:
        for path in (self.folder / RESOLVED).glob("*.json"):
            if path.stem not in keep:
                path.unlink()

    def finish(self) -> None:
        shutil.rmtree(self.folder / TEMP, ignore_errors=True)
