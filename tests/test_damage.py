"""Damaged data never reaches the dataset: every frame read is checked against the sha256 extract recorded."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from framehound import sealed, tables
from framehound.atomic import write_json
from framehound.detect.inference import detect_frames
from framehound.detect.labeler import Labeler
from framehound.detect.opencv_dnn import OpenCVDetector
from framehound.detect.run import detect_all
from framehound.executor import Inline
from framehound.extract.run import extract_all
from framehound.fetch.run import fetch_videos
from framehound.params import DetectParams, ExtractParams, FetchParams, ScreenParams
from framehound.review.project import ReviewProject
from framehound.review.server import bind
from framehound.screen.run import measure_all, screen_all
from framehound.shards import DamagedFrame
from framehound.split.export import write_dataset
from tests.conftest import REPO
from tests.test_report import _large_run, _report
from tests.test_review_project import build_project
from tests.test_review_server import request

EXTRACT = ExtractParams(fps=0.4, max_frames_per_video=4, max_side=160, jpeg_qscale=2)  # 4 frames of the 10 s
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


@pytest.mark.parametrize("where", ["a frame", "a zip header"])
def test_extract_finds_a_damaged_shard_behind_a_good_stamp_and_extracts_it_again(extracted, where):
    shard, table = extracted / "frames/bikes.zip", extracted / "extract/frames.parquet"
    before = shard.read_bytes(), table.read_bytes()
    frame = _frames(extracted).iloc[1]
    if where == "a frame":
        damage(frame)
    else:  # the member name in the local header, just before the JPEG: no frame's bytes change
        shard.write_bytes(before[0][:frame["offset"] - 1] + b"X" + before[0][frame["offset"]:])
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
    detect_frames(frames, Labeler.single(OpenCVDetector(model_dir, input_size=416), 0.05, 0.45), ["person"])


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


# Damaged caches and records (kept across runs, so DVC never rebuilds them): discarded with one line, rebuilt.

def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_rows_changed_behind_a_parquet_seal_are_not_read(tmp_path):
    sealed.write_parquet(pd.DataFrame({"sha256": ["a", "b"], "sharpness": [1.5, 2.5]}), tmp_path / "c.parquet")
    assert sealed.read_parquet(tmp_path / "c.parquet")["sharpness"].tolist() == [1.5, 2.5]
    table = pq.read_table(tmp_path / "c.parquet")
    changed = pa.table({"sha256": ["a", "b"], "sharpness": [1.5, 9.5]}).replace_schema_metadata(table.schema.metadata)
    pq.write_table(changed, tmp_path / "c.parquet")  # still a valid parquet file, with the old seal
    assert sealed.read_parquet(tmp_path / "c.parquet") is None
    (tmp_path / "c.parquet").write_bytes(b"PAR1 and then nothing")
    assert sealed.read_parquet(tmp_path / "c.parquet") is None


def test_a_record_changed_behind_its_seal_is_not_read(tmp_path):
    write_json(tmp_path / "r.json", sealed.seal_record({"title": "Bikes", "sha256": "ab"}))
    assert sealed.read_record(tmp_path / "r.json") == {"title": "Bikes", "sha256": "ab"}
    (tmp_path / "r.json").write_text((tmp_path / "r.json").read_text().replace("Bikes", "Bikez"))
    assert sealed.read_record(tmp_path / "r.json") is None
    (tmp_path / "r.json").write_text('{"title": "Bi')
    assert sealed.read_record(tmp_path / "r.json") is None


def _screen_all(root: Path) -> str:
    return screen_all(ScreenParams(dedup_distance=4, min_sharpness=10), root / "extract/frames.parquet",
                      root / "videos.csv", root / "screen", root / "screen-cache", root / "screen.json", Inline())


def test_a_truncated_screen_cache_is_discarded_with_one_line_and_rebuilt(extracted, caplog):
    _screen_all(extracted)
    cache, quality = extracted / "screen-cache/measures.parquet", extracted / "screen/quality.parquet"
    before = cache.read_bytes(), quality.read_bytes()
    cache.write_bytes(before[0][: len(before[0]) // 2])
    assert "0 from the cache" in _screen_all(extracted)
    assert (cache.read_bytes(), quality.read_bytes()) == before
    assert _warnings(caplog) == [f"{cache}: damaged (unreadable or not what was written); discarded, its frames "
                                 "are measured again"]


def test_a_truncated_detect_cache_is_discarded_with_one_line_and_rebuilt(extracted, model_dir, caplog):
    params = DetectParams(backend="opencv", half=False, batch_size=4, input_size=416, conf_floor=0.05,
                          nms_threshold=0.45, checkpoint_seconds=60)
    frames, cache = extracted / "extract/frames.parquet", extracted / "detect-cache"
    detect_all(params, model_dir, frames, extracted / "a", cache)
    [stored] = cache.iterdir()
    before = stored.read_bytes()
    stored.write_bytes(before[:100])
    assert "(4 inferred, 0 cached)" in detect_all(params, model_dir, frames, extracted / "b", cache)
    assert stored.read_bytes() == before
    assert (extracted / "a/detections.parquet").read_bytes() == (extracted / "b/detections.parquet").read_bytes()
    assert [w.split(": ", 1)[1] for w in _warnings(caplog)] == [
        "damaged (unreadable or not what was written); discarded, its frames are inferred again"]


@pytest.mark.parametrize("damage_to", ["record", "media"])
def test_a_damaged_video_or_record_is_fetched_again_with_one_line(tmp_path, bikes, caplog, damage_to):
    local = tmp_path / "clips" / "bikes.mp4"
    local.parent.mkdir()
    local.write_bytes(bikes.read_bytes())
    fetch = FetchParams(sources=[str(local)], max_height=720, min_duration=None, max_duration=None, allow_live=False,
                        licenses=None, upload_date_after=None, upload_date_before=None, concurrency=1, retries=0,
                        socket_timeout=10, rate_limit=None, sleep_requests=0, sleep_downloads=0, min_success=1,
                        cookies=None, proxy=None)
    fetch_videos(fetch, tmp_path / "videos", tmp_path / "fetch")
    [record] = (tmp_path / "videos").glob("*.json")
    media = record.with_suffix(".mp4")
    table = (tmp_path / "fetch/videos.csv").read_bytes()
    before = record.read_bytes(), media.read_bytes()
    if damage_to == "record":
        record.write_bytes(before[0].replace(b"bikes", b"bikez", 1))
    else:
        damage({"shard": media, "offset": 5000})
    assert "1 new" in fetch_videos(fetch, tmp_path / "videos", tmp_path / "fetch")
    assert (record.read_bytes(), media.read_bytes()) == before
    assert (tmp_path / "fetch/videos.csv").read_bytes() == table
    [warning] = _warnings(caplog)
    assert warning.startswith(f"{record.with_suffix('')}: damaged (") and warning.endswith("; fetching it again")


def test_a_full_disk_stops_a_stage_in_one_line(tmp_path):
    """ENOSPC (here: /dev/full, which always answers it) is the disk's problem, not a bug: no traceback."""
    shutil.copyfile(REPO / "params.yaml", tmp_path / "params.yaml")
    script = ("from pathlib import Path\nfrom framehound.stage import run_stage\n"
              "run_stage('extract', lambda params: Path('/dev/full').write_bytes(b'frames'))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["error: extract: No space left on device (free some space or fix the "
                                          "permissions, then run dvc repro again)"]
