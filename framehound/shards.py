"""data/frames/<video>.zip: one video's JPEGs in one file, and reading any frame back in one seek.

DVC hashes, caches, links and stats every file of an output: at 300,000
frames as loose JPEGs that is 12–14 s for every ``dvc status`` and ~42 s of
DVC time to add one video, against about 1 s with one file a video
(docs/performance.md, "DVC at 100,000 frames"). So extract writes one
uncompressed zip a video: any zip tool opens it, and because members are
stored (JPEGs do not compress), each frame is a plain byte range of the file.
The frames table records that range (``shard``, ``offset``, ``size``), so
readers need no zip parsing and can read frames from many threads at once.
A loose JPEG file is the degenerate case (offset 0, its whole size), which
is how tests and benchmarks hand frames to the stages.

Shards are byte-deterministic: members in frame order, a fixed timestamp and
fixed permissions, so the same frames give the same file on any machine.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from framehound.errors import FramehoundError

STAMP = "frames.json"  # the last member: what made the shard, and its rows
SUFFIX = ".zip"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: no build time leaks into the bytes
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # zip's local file header: 30 bytes before name and extra


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    info.create_system = 3  # unix, whatever machine wrote it
    return info


def pack(jpegs: Iterable[tuple[str, bytes]], stamp: dict[str, Any]) -> bytes:
    """A shard of ``(frame_id, jpeg)`` pairs, in the order given, with ``stamp`` as its last member."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for frame_id, jpeg in jpegs:
            archive.writestr(_member(f"{frame_id}.jpg"), jpeg)
        archive.writestr(_member(STAMP), json.dumps(stamp, sort_keys=True) + "\n")
    return buffer.getvalue()


def read_stamp(shard: Path) -> tuple[dict[str, Any], dict[str, tuple[int, int]]] | None:
    """The stamp of ``shard`` and the byte range (offset, size) of each frame; None if unreadable."""
    try:
        with shard.open("rb") as file, zipfile.ZipFile(file) as archive:
            stamp = json.loads(archive.read(STAMP))
            ranges = {}
            for info in archive.infolist():
                if info.filename == STAMP:
                    continue
                file.seek(info.header_offset)
                header = _LOCAL_HEADER.unpack(file.read(_LOCAL_HEADER.size))
                name_length, extra_length = header[-2:]
                ranges[info.filename.removesuffix(".jpg")] = (
                    info.header_offset + _LOCAL_HEADER.size + name_length + extra_length, info.file_size)
    except Exception:  # a damaged zip raises anything from BadZipFile to NotImplementedError: not a shard
        return None
    return stamp, ranges


class DamagedFrame(FramehoundError):
    """A frame whose bytes are not the ones extract recorded: its shard is gone, cut short or damaged."""


def read_jpeg(file: str | os.PathLike[str], offset: int, size: int, sha256: str) -> bytes:
    """The bytes of one frame (``size`` bytes at ``offset`` of ``file``), checked against its recorded ``sha256``.

    Every reader goes through here, so a damaged shard can never feed a
    measure, a detection, a thumbnail or the dataset: it stops the stage with
    one line. A plain ``dvc repro`` re-extracts a shard whose file changed
    before any reader runs; the message is for damage DVC did not notice (a
    disk's, which leaves the modification time): ``-f extract`` makes extract check.
    """
    try:
        with open(file, "rb") as handle:
            data = os.pread(handle.fileno(), size, offset)
    except OSError as exc:
        raise DamagedFrame(f"{file}: cannot read a frame ({exc.strerror or exc}); "
                           "`dvc repro -f extract` extracts it again") from None
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
        raise DamagedFrame(f"{file}: the {size} bytes at {offset} are not the frame extract recorded "
                           "(damaged or replaced); `dvc repro -f extract` extracts it again")
    return data


def frame_ranges(frames: Any) -> Iterator[tuple[str, int, int, str]]:
    """``(shard, offset, size, sha256)`` of each row of a frames table, in order: what ``read_jpeg`` takes."""
    return zip(frames["shard"], frames["offset"].astype(int), frames["size"].astype(int), frames["sha256"],
               strict=True)


def loose_jpeg_columns(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The frames-table columns that point at a whole JPEG file (tests, benchmarks, hand-made tables)."""
    data = Path(path).read_bytes()
    return {"shard": os.fspath(path), "offset": 0, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def loose_frame_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Frame rows with a ``path`` to a JPEG file (as ``extract_frames`` returns them) as frames-table rows."""
    return [{k: v for k, v in row.items() if k != "path"} | loose_jpeg_columns(row["path"]) for row in rows]
