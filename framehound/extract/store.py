"""data/frames/: one folder a video, kept across runs, each stamped with what made it.

``<video>/frames.json`` holds the key (the video's sha256, the extract params,
``FORMAT``) and the frame rows; it is written last, inside a temporary folder
that replaces the old one in one rename, so a folder with a stamp is complete.
A rerun re-extracts only videos whose key changed, and deletes the folders of
videos no longer fetched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from framehound.atomic import atomic_path, remove_path
from framehound.extract.work import VideoFrames
from framehound.params import ExtractParams

STAMP = "frames.json"
FORMAT = 1  # bump when extraction changes its output for the same params


def video_key(video_sha256: str, params: ExtractParams) -> str:
    """What a video's frames depend on."""
    text = json.dumps({"video": video_sha256, "params": dataclasses.asdict(params), "format": FORMAT},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class FrameStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def rows(self, video_id: str, key: str) -> list[dict[str, Any]] | None:
        """The stored rows of ``video_id`` if they were made with ``key``, with their paths."""
        try:
            stamp = json.loads((self.root / video_id / STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return self._with_paths(video_id, stamp["rows"]) if stamp.get("key") == key else None

    def save(self, frames: VideoFrames, key: str) -> list[dict[str, Any]]:
        """Replace the folder of ``frames.video_id`` in one rename; return its rows, as ``rows`` would."""
        with atomic_path(self.root / frames.video_id, directory=True) as tmp:
            for row, jpeg in zip(frames.rows, frames.jpegs, strict=True):
                (tmp / f"{row['frame_id']}.jpg").write_bytes(jpeg)
            (tmp / STAMP).write_text(json.dumps({"key": key, "rows": frames.rows}, sort_keys=True) + "\n",
                                     encoding="utf-8")
        return self._with_paths(frames.video_id, frames.rows)

    def _with_paths(self, video_id: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [row | {"path": (self.root / video_id / f"{row['frame_id']}.jpg").as_posix()} for row in rows]

    def drop(self, video_id: str) -> None:
        remove_path(self.root / video_id)

    def keep_only(self, video_ids: set[str]) -> int:
        """Delete the folders of other videos; how many went."""
        gone = [p for p in self.root.iterdir() if p.name not in video_ids and not p.name.startswith(".")]
        for path in gone:
            remove_path(path)
        return len(gone)
