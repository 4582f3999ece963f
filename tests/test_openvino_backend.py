"""The OpenVINO backend: OpenCV's boxes in fp32, the same bytes every run in bf16 and int8, no PyTorch."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from framehound.detect.model_cache import default_cache_dir
from framehound.detect.openvino_backend import OpenVINODetector, cpu_has_bf16, openvino_installed

if not openvino_installed():  # not importorskip: openvino must be first imported the way the stage does
    pytest.skip("openvino is not installed", allow_module_level=True)
from framehound.detect.run import detect_all
from framehound.errors import FramehoundError
from framehound.params import DetectParams
from tests import test_detect
from tests.parity import SIZE, assert_detections_match_opencv, assert_rows_match_opencv, detections, iou
from tests.test_detect import _write_frames

bikes_frames = test_detect.bikes_frames

DETECT = DetectParams(backend="openvino", half=False, batch_size=4, input_size=SIZE, conf_floor=0.05,
                      nms_threshold=0.45, checkpoint_seconds=60)
needs_bf16 = pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has neither AVX-512 BF16 nor AMX")


@pytest.fixture(scope="module", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A model cache of the module's own (the stage finds it through XDG_CACHE_HOME)."""
    home = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home))
        yield default_cache_dir()


@pytest.fixture(scope="module")
def fp32(model_dir: Path) -> OpenVINODetector:
    return OpenVINODetector(model_dir, SIZE, "fp32")


@pytest.fixture(scope="module")
def fp32_rows(fp32: OpenVINODetector, batch: np.ndarray) -> list[np.ndarray]:
    return fp32.infer(batch)


def test_name_says_runtime_and_precision(fp32: OpenVINODetector) -> None:
    assert fp32.name == "openvino-cpu-fp32"


def test_raw_rows_match_opencv_row_for_row(fp32_rows: list[np.ndarray], opencv_rows: list[np.ndarray]) -> None:
    assert_rows_match_opencv(fp32_rows, opencv_rows)


def test_detections_match_opencv(images: list[np.ndarray], fp32_rows: list[np.ndarray],
                                 opencv_rows: list[np.ndarray]) -> None:
    assert_detections_match_opencv(images, fp32_rows, opencv_rows)


def test_rows_under_the_objectness_floor_are_left_out(fp32: OpenVINODetector, fp32_rows: list[np.ndarray],
                                                      batch: np.ndarray) -> None:
    for every, kept in zip(fp32_rows[:4], fp32.infer(batch[:4], min_objectness=0.1), strict=True):
        np.testing.assert_array_equal(kept, every[every[:, 4] >= 0.1])


def test_a_frames_rows_do_not_depend_on_the_frames_beside_it(fp32: OpenVINODetector, fp32_rows: list[np.ndarray],
                                                             batch: np.ndarray) -> None:
    for index in (0, 7, 19):
        np.testing.assert_array_equal(fp32.infer(batch[index:index + 1])[0], fp32_rows[index])


@needs_bf16
def test_bf16_gives_the_same_bytes_every_run(tmp_path: Path, model_dir: Path, bikes_frames: pd.DataFrame) -> None:
    frames = _write_frames(tmp_path, bikes_frames.head(10))
    bf16 = replace(DETECT, precision="bf16")
    runs = [detect_all(bf16, model_dir, frames, tmp_path / f"out{i}", tmp_path / f"cache{i}") for i in range(2)]
    assert all(run.endswith("backend=openvino-cpu-bf16") for run in runs)
    assert (tmp_path / "out0" / "detections.parquet").read_bytes() == \
        (tmp_path / "out1" / "detections.parquet").read_bytes()


@needs_bf16
def test_switching_precision_never_mixes_cached_rows(tmp_path: Path, model_dir: Path,
                                                     bikes_frames: pd.DataFrame) -> None:
    frames, cache = _write_frames(tmp_path, bikes_frames.head(4)), tmp_path / "cache"
    detect_all(DETECT, model_dir, frames, tmp_path / "a", cache)
    switched = detect_all(replace(DETECT, precision="bf16"), model_dir, frames, tmp_path / "b", cache)
    assert switched.startswith("4 frames (4 inferred, 0 cached)")
    back = detect_all(DETECT, model_dir, frames, tmp_path / "c", cache)
    assert back.startswith("4 frames (4 inferred, 0 cached)")  # one key kept: the cache holds one precision


def test_bf16_where_the_cpu_has_none_is_a_clear_error(model_dir: Path) -> None:
    if cpu_has_bf16():
        pytest.skip("this CPU has bf16")
    with pytest.raises(FramehoundError, match=r"^detect.precision: bf16 requested, but this CPU has neither"):
        OpenVINODetector(model_dir, SIZE, "bf16")


needs_nncf = pytest.mark.skipif(importlib.util.find_spec("nncf") is None, reason="nncf is not installed")


@pytest.fixture(scope="module")
def int8(model_dir: Path) -> OpenVINODetector:
    return OpenVINODetector(model_dir, SIZE, "int8")


@needs_nncf
def test_int8_finds_every_box_opencv_finds(int8: OpenVINODetector, images: list[np.ndarray],
                                                                     batch: np.ndarray,
                                                                     opencv_rows: list[np.ndarray]) -> None:
    """Its tolerance: each OpenCV box of confidence ≥ 0.25 has an int8 twin of its class, IoU ≥ 0.85, confidence
    ≥ 0.1 (docs/quality.md has the ground-truth figures). Quantized heads would find none."""
    assert int8.name == "openvino-cpu-int8"
    found = 0
    for image, ours, theirs in zip(images, int8.infer(batch), opencv_rows, strict=True):
        height, width = image.shape[:2]
        mine, reference = detections(ours, width, height), detections(theirs, width, height)
        for cls, conf, box in zip(reference.class_id, reference.confidence, reference.xyxy, strict=True):
            if conf >= 0.25:
                same = (mine.class_id == cls) & (mine.confidence >= 0.1)
                assert same.any() and iou(box, mine.xyxy[same]).max() >= 0.85, f"class {cls} {conf:.2f} {box}"
                found += 1
    assert found >= 10  # the comparison is not vacuous (13 such boxes on these frames)


@needs_nncf
def test_int8_is_the_same_model_made_twice(int8: OpenVINODetector, model_dir: Path, tmp_path: Path) -> None:
    from framehound.detect.quantize import int8_model

    assert f"model {int8_model(model_dir, SIZE, tmp_path).digest[:16]}" in int8.runtime  # another cache, remade


def test_the_detection_cache_key_covers_the_model_that_ran(tmp_path: Path, model_dir: Path,
                                                            bikes_frames: pd.DataFrame,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows detected by another model (here: another graph builder) are never reused."""
    from framehound.darknet import openvino_graph

    frames, cache = _write_frames(tmp_path, bikes_frames.head(2)), tmp_path / "cache"
    assert detect_all(DETECT, model_dir, frames, tmp_path / "a", cache).startswith("2 frames (2 inferred")
    assert detect_all(DETECT, model_dir, frames, tmp_path / "b", cache).startswith("2 frames (0 inferred, 2 cached)")
    edited = tmp_path / "openvino_graph.py"
    edited.write_text(Path(openvino_graph.__file__).read_text() + "\n# a change\n")
    monkeypatch.setattr(openvino_graph, "__file__", str(edited))
    assert detect_all(DETECT, model_dir, frames, tmp_path / "c", cache).startswith("2 frames (2 inferred")
    runtime = json.loads((tmp_path / "c" / "runtime.json").read_text())
    assert runtime["backend"] == "openvino-cpu-fp32" and runtime["runtime"].startswith("openvino 2026.")
