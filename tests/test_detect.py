"""detect runs the real yolov3-tiny through OpenCV DNN on real footage."""

from __future__ import annotations

import logging
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace

import cv2
import numpy as np
import pandas as pd
import pytest

from framehound import tables
from framehound.darknet.cfg import parse_cfg, read_names, with_detection_threshold
from framehound.detect.backends import build_detector, choose_backend
from framehound.detect.inference import detect_frames
from framehound.detect.labeler import Labeler
from framehound.detect.opencv_dnn import OpenCVDetector, opencv_cuda_available
from framehound.detect.postprocess import BoxColumns, decode, nms_per_class
from framehound.detect.run import detect_all
from framehound.errors import FramehoundError
from framehound.extract.frames import extract_frames
from framehound.hashing import sha256_file
from framehound.params import DetectParams, ExtractParams
from framehound.shards import loose_frame_rows

DETECT = DetectParams(backend="opencv", half=False, batch_size=4, input_size=416, conf_floor=0.05,
                      nms_threshold=0.45, checkpoint_seconds=60)


@pytest.fixture(scope="module")
def detector(model_dir):
    return OpenCVDetector(model_dir, input_size=416)


@pytest.fixture(scope="module")
def names(model_dir):
    return read_names((model_dir / "model.names").read_text())


@pytest.fixture(scope="module")
def bikes_frames(tmp_path_factory, bikes) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("frames")
    rows = extract_frames(bikes, "bikes", folder, ExtractParams(
            fps=2, max_frames_per_video=20, max_side=640, jpeg_qscale=2))
    return pd.DataFrame(loose_frame_rows(rows))


def test_finds_a_person_in_street_footage(bikes_frames, detector, names):
    detections = detect_frames(bikes_frames, Labeler.single(detector, 0.05, 0.45), names).detections
    people = detections[detections["class_name"] == "person"]
    assert people["confidence"].max() > 0.5
    best = people.sort_values("confidence").iloc[-1]
    assert 0 <= best["x_min"] < best["x_max"] <= 640 and 0 <= best["y_min"] < best["y_max"] <= 272
    assert detections["confidence"].min() >= 0.05


def test_finds_nothing_in_a_black_frame(tmp_path, detector, names):
    cv2.imwrite(str(tmp_path / "black.jpg"), np.zeros((360, 640, 3), np.uint8))
    frames = pd.DataFrame(loose_frame_rows([{"frame_id": "black_0", "path": tmp_path / "black.jpg",
                                             "sha256": sha256_file(tmp_path / "black.jpg")}]))
    assert detect_frames(frames, Labeler.single(detector, 0.05, 0.45), names).detections.empty


def test_an_undecodable_frame_is_recorded_not_fatal(tmp_path, bikes_frames, detector, names):
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    bad = {"frame_id": "bad_0", "path": tmp_path / "bad.jpg", "sha256": sha256_file(tmp_path / "bad.jpg")}
    frames = pd.concat([bikes_frames.head(2), pd.DataFrame(loose_frame_rows([bad]))])
    result = detect_frames(frames, Labeler.single(detector, 0.05, 0.45), names)
    assert set(result.detections["frame_id"]) <= {"bikes_0", "bikes_500"}
    assert result.failures.to_dict("records") == [
        {"source": "detect", "target": "bad_0", "reason": "image could not be decoded"}]


def _write_frames(tmp_path, frames: pd.DataFrame):
    table = frames.assign(video_id="bikes", t_ms=0, width=640, height=272)
    tables.write_table(table, tmp_path / "frames.parquet", tables.FRAMES)
    return tmp_path / "frames.parquet"


def test_adding_frames_infers_only_the_new_ones(tmp_path, model_dir, bikes_frames):
    cache = tmp_path / "cache"
    first = detect_all(DETECT, model_dir, _write_frames(tmp_path, bikes_frames.head(6)), tmp_path / "a", cache)
    assert first.startswith("6 frames (6 inferred, 0 cached)")
    second = detect_all(DETECT, model_dir, _write_frames(tmp_path, bikes_frames.head(10)), tmp_path / "b", cache)
    assert second.startswith("10 frames (4 inferred, 6 cached)")
    fresh = detect_all(DETECT, model_dir, tmp_path / "frames.parquet", tmp_path / "c", tmp_path / "empty-cache")
    assert fresh.startswith("10 frames (10 inferred, 0 cached)")
    cached_bytes = (tmp_path / "b" / "detections.parquet").read_bytes()
    assert cached_bytes == (tmp_path / "c" / "detections.parquet").read_bytes()


def test_changing_a_detection_setting_reinfers_everything(tmp_path, model_dir, bikes_frames):
    cache = tmp_path / "cache"
    frames = _write_frames(tmp_path, bikes_frames.head(4))
    detect_all(DETECT, model_dir, frames, tmp_path / "a", cache)
    changed = detect_all(replace(DETECT, input_size=320), model_dir, frames, tmp_path / "b", cache)
    assert changed.startswith("4 frames (4 inferred, 0 cached)")
    assert len(list(cache.iterdir())) == 1


def test_a_moved_frame_is_recognised_by_its_content(tmp_path, model_dir, bikes_frames):
    cache = tmp_path / "cache"
    detect_all(DETECT, model_dir, _write_frames(tmp_path, bikes_frames.head(3)), tmp_path / "a", cache)
    moved = bikes_frames.head(3).copy()
    (tmp_path / "moved").mkdir()
    for index, path in enumerate(moved["shard"]):
        moved.iloc[index, moved.columns.get_loc("shard")] = shutil.copy(path, tmp_path / "moved")
    summary = detect_all(DETECT, model_dir, _write_frames(tmp_path, moved), tmp_path / "b", cache)
    assert summary.startswith("3 frames (0 inferred, 3 cached)")
    assert "frames/s" not in summary  # no speed to report when nothing ran


def test_the_cache_bytes_depend_only_on_its_rows(tmp_path, model_dir, bikes_frames):
    """Same frames, two histories (one run; or 6, 10, 4 then 10 frames, checkpointed): the same bytes."""
    detect_all(DETECT, model_dir, _write_frames(tmp_path, bikes_frames.head(10)), tmp_path / "out", tmp_path / "one")
    for count, seconds in ((6, 60), (10, 0), (4, 60), (10, 60)):
        detect_all(replace(DETECT, checkpoint_seconds=seconds), model_dir,
                   _write_frames(tmp_path, bikes_frames.head(count)), tmp_path / "out", tmp_path / "history")
    [one], [history] = (tmp_path / "one").iterdir(), (tmp_path / "history").iterdir()
    assert history.name == one.name and history.read_bytes() == one.read_bytes()


def test_a_killed_detect_keeps_its_committed_detections(tmp_path, model_dir, bikes_frames):
    """SIGKILL after the first checkpoint: the rerun infers only what was not committed."""
    frames, cache = _write_frames(tmp_path, bikes_frames), tmp_path / "cache"
    script = ("from pathlib import Path; from framehound.detect.run import detect_all; "
              "from framehound.params import DetectParams; "
              f"detect_all({replace(DETECT, batch_size=1, checkpoint_seconds=0)!r}, Path({str(model_dir)!r}), "
              f"Path({str(frames)!r}), Path({str(tmp_path / 'killed')!r}), Path({str(cache)!r}))")
    child = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 120
    while len(list(cache.glob("*.part-*.parquet"))) < 2 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "detect finished before it could be killed"
    summary = detect_all(DETECT, model_dir, frames, tmp_path / "rerun", cache)
    inferred, cached = map(int, re.match(r"\d+ frames \((\d+) inferred, (\d+) cached\)", summary).groups())
    assert cached >= 2 and inferred + cached == len(bikes_frames)
    assert not list(cache.glob("*.part-*")), "the finished run folds the parts into one file"
    detect_all(DETECT, model_dir, frames, tmp_path / "fresh", tmp_path / "fresh-cache")
    assert ((tmp_path / "rerun" / "detections.parquet").read_bytes()
            == (tmp_path / "fresh" / "detections.parquet").read_bytes())


def test_decode_maps_fractions_to_pixels_and_keeps_every_class_over_the_floor():
    row = np.zeros((1, 8), np.float32)
    row[0, :4] = [0.5, 0.5, 0.2, 0.4]
    row[0, 5:] = [0.9, 0.01, 0.3]
    boxes = decode(row, width=1000, height=500, conf_floor=0.05)
    assert boxes.class_id.tolist() == [0, 2]
    assert boxes.confidence.tolist() == pytest.approx([0.9, 0.3])
    assert boxes.xyxy[0].tolist() == pytest.approx([400, 150, 600, 350])


def test_nms_is_per_class():
    xyxy = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]], np.float32)
    boxes = BoxColumns(np.array([0, 0, 1], np.int32), np.array([0.9, 0.8, 0.7], np.float32), xyxy)
    kept = nms_per_class(boxes, 0.45)
    assert kept.class_id.tolist() == [0, 1]
    assert kept.confidence.tolist() == pytest.approx([0.9, 0.7])


def test_cfg_threshold_is_rewritten_in_every_yolo_layer(model_dir):
    text = with_detection_threshold((model_dir / "model.cfg").read_text(), 0.05)
    yolo = [s for s in parse_cfg(text) if s.type == "yolo"]
    assert len(yolo) == 2 and all(s.options["thresh"] == "0.05" for s in yolo)


def test_opencv_cuda_without_cuda_is_a_clear_error():
    if opencv_cuda_available():
        pytest.skip("this OpenCV has CUDA and a device")
    with pytest.raises(FramehoundError, match=r"^detect.backend: opencv-cuda requested"):
        choose_backend("opencv-cuda")


def test_auto_is_openvino_wherever_it_is_installed_whatever_else_is():
    """The committed dataset's runtime: not PyTorch, not a GPU, whatever this machine also has."""
    assert choose_backend("auto") == ("openvino", "auto: OpenVINO, the runtime of the committed dataset")


def test_auto_without_openvino_says_in_one_line_that_the_dataset_may_differ(monkeypatch, caplog):
    monkeypatch.setattr("framehound.detect.backends.openvino_installed", lambda: False)  # as where no wheel exists
    with caplog.at_level(logging.WARNING, logger="framehound"):
        assert choose_backend("auto")[0] == "opencv"
    assert [r.getMessage() for r in caplog.records] == [
        "detect.backend auto: OpenVINO is not installed here (no wheel for this platform?), so detect runs on "
        "OpenCV and the dataset may differ from the committed one"]


def test_a_detection_cache_that_cannot_be_written_stops_detect_before_any_inference(tmp_path, model_dir, bikes_frames):
    """Not at the first checkpoint, a minute of inference later, with a traceback."""
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    with pytest.raises(FramehoundError, match=r"^[^\n]*cache: cannot write the detection cache \([^\n]*\); "
                                              r"inference would be lost at the first checkpoint$"):
        detect_all(DETECT, model_dir, _write_frames(tmp_path, bikes_frames.head(2)), tmp_path / "out",
                   tmp_path / "cache")
    assert not (tmp_path / "out").exists()


def test_bf16_where_auto_chose_a_backend_without_it_is_a_clear_error(tmp_path):
    """On a machine without OpenVINO, `auto` falls back to OpenCV or PyTorch, which run fp32 only."""
    with pytest.raises(FramehoundError, match=r"^detect.precision: bf16 runs on the openvino backend only, "
                                              r"and opencv was chosen \(install openvino, or use precision fp32\)$"):
        build_detector("opencv", tmp_path, replace(DETECT, backend="auto", precision="bf16"))
