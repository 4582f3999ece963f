"""data/frames/: one shard a video (framehound.shards), kept across runs, each stamped with what made it.

A shard's last member, ``frames.json``, holds its key (the video's sha256,
the extract params, ``FORMAT``) and the frame rows; the shard is written
under a temporary name and renamed into place, so a shard that exists is
complete. A rerun re-extracts only videos whose key changed, and deletes the
shards of videos no longer fetched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from framehound.atomic import remove_path, write_bytes
from framehound.errors import FramehoundError
from framehound.extract.work import VideoFrames
from framehound.params import ExtractParams
from framehound.shards import SUFFIX, pack, read_stamp

FORMAT = 2  # bump when extraction changes its output for the same params (2: shards, not folders)


def video_key(video_sha256: str, params: ExtractParams) -> str:
    """What a video's frames depend on."""
    text = json.dumps({"video": video_sha256, "params": dataclasses.asdict(params), "format": FORMAT},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class FrameStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def shard(self, video_id: str) -> Path:
        return self.root / f"{video_id}{SUFFIX}"

    def rows(self, video_id: str, key: str) -> list[dict[str, Any]] | None:
        """The stored rows of ``video_id`` if they were made with ``key``, with where each JPEG lies."""
        found = read_stamp(self.shard(video_id))
        if found is None or found[0].get("key") != key:
            return None
        stamp, ranges = found
        shard = self.shard(video_id).as_posix()
        try:
            return [row | {"shard": shard, "offset": ranges[row["frame_id"]][0], "size": ranges[row["frame_id"]][1]}
                    for row in stamp["rows"]]
        except KeyError:  # a stamp naming frames the shard lacks: not ours, extract again
            return None

    def save(self, frames: VideoFrames, key: str) -> list[dict[str, Any]]:
        """Replace the shard of ``frames.video_id`` in one rename; return its rows, as ``rows`` would."""
        ids = [row["frame_id"] for row in frames.rows]
        write_bytes(self.shard(frames.video_id),
                    pack(zip(ids, frames.jpegs, strict=True), {"key": key, "rows": frames.rows}))
        rows = self.rows(frames.video_id, key)
        if rows is None:
            raise FramehoundError(f"{self.shard(frames.video_id)}: written but does not read back")
        return rows

    def drop(self, video_id: str) -> None:
        remove_path(self.shard(video_id))

    def keep_only(self, video_ids: set[str]) -> int:
        """Delete everything but the shards of ``video_ids`` (folders of the old layout too); how many went."""
        keep = {self.shard(v).name for v in video_ids}
        gone = [p for p in self.root.iterdir() if p.name not in keep and not p.name.startswith(".")]
        for path in gone:
            remove_path(path)
        return len(gone)
