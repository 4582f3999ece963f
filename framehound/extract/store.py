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
import logging
from pathlib import Path
from typing import Any

from framehound.atomic import remove_path, write_bytes
from framehound.errors import FramehoundError
from framehound.extract.work import VideoFrames
from framehound.params import ExtractParams
from framehound.shards import SUFFIX, pack, read_stamp

log = logging.getLogger("framehound")

# Bump when extraction changes its output for the same params (2: shards, not folders; 3: the cap spreads frames
# over a long video instead of stopping at its start).
FORMAT = 3


def video_key(video_sha256: str, params: ExtractParams) -> str:
    """What a video's frames depend on."""
    text = json.dumps({"video": video_sha256, "params": dataclasses.asdict(params), "format": FORMAT},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class FrameStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.damaged: set[str] = set()  # shards found damaged and extracted again
        root.mkdir(parents=True, exist_ok=True)

    def shard(self, video_id: str) -> Path:
        return self.root / f"{video_id}{SUFFIX}"

    def rows(self, video_id: str, key: str) -> list[dict[str, Any]] | None:
        """The stored rows of ``video_id`` if they were made with ``key``, with where each JPEG lies.

        The whole shard is checked, not just its stamp: every frame against the
        sha256 its row records, and every other byte against the shard those
        frames and that stamp make. A damaged shard is extracted again (and
        counted in ``damaged``), so a kept one is byte for byte what extract writes.
        """
        path = self.shard(video_id)
        found = read_stamp(path)
        if found is None or found[0].get("key") != key:
            if found is None and path.exists():
                self._damaged(path, "not a readable shard")
            return None
        stamp, ranges = found
        data = path.read_bytes()
        try:
            rows = [row | {"shard": path.as_posix(), "offset": ranges[row["frame_id"]][0],
                           "size": ranges[row["frame_id"]][1]} for row in stamp["rows"]]
            jpegs = [data[row["offset"]:row["offset"] + row["size"]] for row in rows]
            intact = all(hashlib.sha256(jpeg).hexdigest() == row["sha256"]
                         for jpeg, row in zip(jpegs, rows, strict=True))
        except (KeyError, TypeError):  # a stamp naming frames the shard lacks, or not rows at all
            intact = False
        if not intact or pack(zip([r["frame_id"] for r in rows], jpegs, strict=True), stamp) != data:
            self._damaged(path, "its bytes are not those its frames' sha256 and its stamp make")
            return None
        return rows

    def _damaged(self, path: Path, why: str) -> None:
        log.warning("%s: damaged (%s); extracting it again", path, why)
        self.damaged.add(path.name)

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
