"""data/videos/: the persistent store of fetched videos and what each source yielded.

DVC deletes a stage's outputs before running it, unless they are declared
``persist: true``; this folder is, so videos survive reruns and a rerun only
downloads what is new. A video counts only when both its media file and its
``<id>.json`` record exist: the record is written last, atomically, so a run
killed mid-download leaves no video that looks complete, and the next run
cleans up and fetches it again.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from framehound.atomic import write_json

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
        """Complete videos: id -> provenance record."""
        found = {}
        for record_path in sorted(self.folder.glob("*.json")):
            record = json.loads(record_path.read_text(encoding="utf-8"))
            if (self.folder / record["file"]).is_file():
                found[record_path.stem] = record
        return found

    def add(self, video_id: str, media: Path, record: dict[str, Any]) -> dict[str, Any]:
        """Move ``media`` in as ``<id><suffix>`` and commit it with its record; return the stored record."""
        target = self.folder / f"{video_id}{media.suffix.lower()}"
        os.replace(media, target)
        stored = {**record, "file": target.name}
        write_json(self.folder / f"{video_id}.json", stored)
        return stored

    def remove(self, video_id: str, record: dict[str, Any]) -> None:
        """Forget a video (e.g. its source was removed, or a takedown request); ``record`` is its stored record."""
        (self.folder / f"{video_id}.json").unlink(missing_ok=True)
        (self.folder / record["file"]).unlink(missing_ok=True)

    def resolution(self, key: str) -> dict[str, Any] | None:
        path = self.folder / RESOLVED / f"{key}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def save_resolution(self, key: str, outcome: dict[str, Any]) -> None:
        write_json(self.folder / RESOLVED / f"{key}.json", outcome)

    def prune_resolutions(self, keep: set[str]) -> None:
        for path in (self.folder / RESOLVED).glob("*.json"):
            if path.stem not in keep:
                path.unlink()

    def finish(self) -> None:
        shutil.rmtree(self.folder / TEMP, ignore_errors=True)
