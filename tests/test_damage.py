"""Damaged data never reaches the dataset: every frame read is checked against the sha256 extract recorded."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest

from framehound import tables
from framehound.detect.opencv_dnn import OpenCVDetector
from framehound.detect.run import detect_frames
from framehound.executor import Inline
from framehound.extract.run import extract_all
from framehound.params import ExtractParams
from framehound.review.project import ReviewProject
from framehound.review.server import bind
from framehound.screen.run import measure_all
from framehound.shards import DamagedFrame
from framehound.split.export import write_dataset
from tests.test_report import _large_run, _report
from tests.test_review_project import build_project
from tests.test_review_server import request

EXTRACT = ExtractParams(fps=2, max_frames_per_video=4, max_side=160, jpeg_qscale=2)
ONE_LINE = r"^[^\n]*: the \d+ bytes at \d+ are not the frame extract recorded [^\n]*dvc repro[^\n]*$"


def damage(frame: pd.Series | dict) -> None:
    """Overwrite the first 64 bytes of a frame's JPEG in place, as a failing disk or a careless tool would."""
    with open(frame["shard"], "r+b") as handle:
        handle.seek(int(frame["offset"]))
        handle.write(b"\0" * 64)


@pytest.fixture
def extracted(tmp_path, bikes) -> Path:
    """tmp_path with data/frames/bikes.zip and data/extract/frames.parquet from the real clip."""
    videos = pd.DataFrame([{column: "" for column in tables.VIDEOS.columns} | {
        "id": "bikes", "path": str(bikes), "duration": 10.0, "width": 1280, "height": 720, "fps": 25.0}])
    tables.write_table(videos, tmp_path / "videos.csv", tables.VIDEOS)
    extract_all(EXTRACT, tmp_path / "videos.csv", tmp_path / "frames", tmp_path / "extract", Inline())
    return tmp_path


def _frames(root: Path) -> pd.DataFrame:
    return tables.read_table(root / "extract" / "frames.parquet", tables.FRAMES)


def test_extract_finds_a_damaged_shard_behind_a_good_stamp_and_extracts_it_again(extracted):
    shard, table = extracted / "frames/bikes.zip", extracted / "extract/frames.parquet"
    before = shard.read_bytes(), table.read_bytes()
    damage(_frames(extracted).iloc[1])
    summary = extract_all(EXTRACT, extracted / "videos.csv", extracted / "frames", extracted / "extract", Inline())
    assert "(1 extracted, 0 unchanged, 1 damaged and extracted again)" in summary
    assert (shard.read_bytes(), table.read_bytes()) == before


def _split(root: Path, frames: pd.DataFrame) -> None:
    write_dataset(root / "dataset", frames, tables.empty(tables.LABELS), {"bikes": "train"}, ["person"])


def _screen(root: Path, frames: pd.DataFrame) -> None:
    measure_all(frames, tables.empty(tables.MEASURES), Inline())


def _screen_shipping_bytes(root: Path, frames: pd.DataFrame) -> None:
    measure_all(frames, tables.empty(tables.MEASURES), Inline(), ship=True)


def _detect(root: Path, frames: pd.DataFrame, model_dir: Path) -> None:
    detect_frames(frames, OpenCVDetector(model_dir, input_size=416), ["person"], 0.05, 0.45)


@pytest.mark.parametrize("reader", [_split, _screen, _screen_shipping_bytes, _detect])
def test_a_stage_reading_a_damaged_frame_stops_in_one_line_before_writing_it(extracted, reader, request):
    frames = _frames(extracted)
    damaged = frames.iloc[2]
    damage(damaged)
    extra = (request.getfixturevalue("model_dir"),) if reader is _detect else ()
    with pytest.raises(DamagedFrame, match=ONE_LINE):
        reader(extracted, frames, *extra)
    assert not (extracted / f"dataset/images/train/{damaged['frame_id']}.jpg").exists()


def test_a_gone_shard_stops_a_stage_too_instead_of_counting_its_frames_undecodable(extracted):
    (extracted / "frames/bikes.zip").unlink()
    with pytest.raises(DamagedFrame, match=r"bikes\.zip: cannot read a frame \(No such file"):
        _screen(extracted, _frames(extracted))


def test_the_report_refuses_a_damaged_frame_for_its_contact_sheets(tmp_path):
    root = _large_run(tmp_path / "repo", 20, 2)
    damage({"shard": root / "data/frames/f.jpg", "offset": 0})
    with pytest.raises(DamagedFrame, match=ONE_LINE):
        _report(root)


def test_review_never_shows_a_damaged_frame_and_says_why(tmp_path):
    root = build_project(tmp_path / "repo")
    project = ReviewProject(root)
    frame = next(iter(project.frames.values()))
    damage({"shard": frame.shard, "offset": frame.offset})
    with pytest.raises(DamagedFrame, match=ONE_LINE):
        frame.jpeg()
    server, url = bind(project, "ann")
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        status, body = request(url, "GET", f"/image/{frame.frame_id}")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 404 and b"not the frame extract recorded" in body and b"\n" not in body.strip()
