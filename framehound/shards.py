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

import io
import json
import os
import struct
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

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
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, struct.error):
        return None
    return stamp, ranges


def read_jpeg(file: str | os.PathLike[str], offset: int, size: int) -> bytes:
    """The bytes of one frame: ``size`` bytes at ``offset`` of ``file`` (a shard, or a loose JPEG)."""
    with open(file, "rb") as handle:
        data = os.pread(handle.fileno(), size, offset)
    if len(data) != size:
        raise OSError(f"{file}: {size} bytes at {offset} expected, the file ends first")
    return data


def read_jpeg_or_empty(file: str | os.PathLike[str], offset: int, size: int) -> bytes:
    """``read_jpeg``, or no bytes when the file is gone or short: the frame then counts as undecodable."""
    try:
        return read_jpeg(file, offset, size)
    except OSError:
        return b""


def frame_ranges(frames: Any) -> Iterator[tuple[str, int, int]]:
    """``(shard, offset, size)`` of each row of a frames table, in order: what ``read_jpeg`` takes."""
    return zip(frames["shard"], frames["offset"].astype(int), frames["size"].astype(int), strict=True)


def loose_jpeg_columns(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The frames-table columns that point at a whole JPEG file (tests, benchmarks, hand-made tables)."""
    return {"shard": os.fspath(path), "offset": 0, "size": Path(path).stat().st_size}


def loose_frame_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Frame rows with a ``path`` to a JPEG file (as ``extract_frames`` returns them) as frames-table rows."""
    return [{k: v for k, v in row.items() if k != "path"} | loose_jpeg_columns(row["path"]) for row in rows]
