"""A video's frames live in one uncompressed zip; the frames table says where each JPEG's bytes are."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile

import pytest

from framehound.shards import STAMP, DamagedFrame, loose_jpeg_columns, pack, read_jpeg, read_stamp


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


JPEGS = [("v_0", b"\xff\xd8first\xff\xd9"), ("v_250", b"\xff\xd8second, longer\xff\xd9"), ("v_500", b"\xff\xd8")]


def test_the_same_frames_give_the_same_shard_bytes_in_another_process(tmp_path):
    here = pack(JPEGS, {"key": "k"})
    there = subprocess.run([sys.executable, "-c", "import sys; from framehound.shards import pack; "
                            f"sys.stdout.buffer.write(pack({JPEGS!r}, {{'key': 'k'}}))"],
                           capture_output=True, check=True).stdout  # another process, another clock
    assert here == there
    assert pack(JPEGS, {"key": "other"}) != here


def test_any_zip_reader_opens_a_shard_and_finds_the_frames_in_order_uncompressed(tmp_path):
    shard = tmp_path / "v.zip"
    shard.write_bytes(pack(JPEGS, {"key": "k"}))
    with zipfile.ZipFile(shard) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["v_0.jpg", "v_250.jpg", "v_500.jpg", STAMP]
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}  # no clock in the bytes
        assert [archive.read(f"{name}.jpg") for name, _ in JPEGS] == [jpeg for _, jpeg in JPEGS]


def test_each_frame_is_a_byte_range_of_the_shard(tmp_path):
    shard = tmp_path / "v.zip"
    shard.write_bytes(pack(JPEGS, {"key": "k", "rows": [1]}))
    stamp, ranges = read_stamp(shard)
    assert stamp == {"key": "k", "rows": [1]}
    assert list(ranges) == [name for name, _ in JPEGS]
    assert [read_jpeg(shard, *ranges[name], _sha256(jpeg)) for name, jpeg in JPEGS] == [jpeg for _, jpeg in JPEGS]


def test_a_cut_or_foreign_file_is_no_shard_and_a_short_read_names_the_file(tmp_path):
    shard = tmp_path / "v.zip"
    data = pack(JPEGS, {"key": "k"})
    shard.write_bytes(data[:-10])
    assert read_stamp(shard) is None
    shard.write_bytes(b"not a zip")
    assert read_stamp(shard) is None
    assert read_stamp(tmp_path / "missing.zip") is None
    with pytest.raises(DamagedFrame, match=r"v\.zip: the 100 bytes at 0 are not the frame extract recorded"):
        read_jpeg(shard, 0, 100, _sha256(b""))
    with pytest.raises(DamagedFrame, match=r"gone\.jpg: cannot read a frame \(No such file"):
        read_jpeg(tmp_path / "gone.jpg", 0, 1, _sha256(b""))


def test_a_loose_jpeg_is_a_shard_of_one_frame(tmp_path):
    image = tmp_path / "f.jpg"
    image.write_bytes(JPEGS[1][1])
    columns = loose_jpeg_columns(image)
    assert read_jpeg(columns["shard"], columns["offset"], columns["size"], columns["sha256"]) == JPEGS[1][1]
