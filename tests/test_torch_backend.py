"""The torch backend is a drop-in for OpenCV DNN: same rows, same detections, on real footage."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("torch")

from framehound.darknet.random_weights import random_weights
from framehound.darknet.torch_model import build_darknet
from framehound.detect.detector import network_input
from framehound.detect.opencv_dnn import OpenCVDetector
from framehound.detect.torch_backend import TorchDetector, import_torch
from framehound.errors import FramehoundError
from tests.parity import SIZE, assert_detections_match_opencv, assert_rows_match_opencv, detections


@pytest.fixture(scope="module")
def torch_detector(model_dir: Path) -> TorchDetector:
    return TorchDetector(model_dir, SIZE, device="cpu")


@pytest.fixture(scope="module")
def torch_rows(torch_detector: TorchDetector, batch: np.ndarray) -> list[np.ndarray]:
    return torch_detector.infer(batch)


def test_name_says_what_runs(torch_detector: TorchDetector) -> None:
    assert torch_detector.name == "torch-cpu-fp32"  # half=True applies on CUDA only


def test_network_input_is_opencvs_blob_before_scaling(images: list[np.ndarray]) -> None:
    blob = cv2.dnn.blobFromImage(images[0], 1 / 255.0, (SIZE, SIZE), swapRB=True, crop=False)[0]
    scaled = network_input(images[0], SIZE).transpose(2, 0, 1).astype(np.float32) * np.float32(1 / 255.0)
    np.testing.assert_array_equal(scaled, blob)


def test_eight_bit_input_gives_opencv_exactly_the_float_blobs_rows(model_dir: Path,
                                                                   images: list[np.ndarray]) -> None:
    detector = OpenCVDetector(model_dir, SIZE)
    detector.net.setInput(cv2.dnn.blobFromImage(images[0], 1 / 255.0, (SIZE, SIZE), swapRB=True, crop=False))
    from_blob = np.concatenate([o.reshape(-1, 85) for o in detector.net.forward(detector.output_names)])
    np.testing.assert_array_equal(detector.infer(network_input(images[0], SIZE)[np.newaxis])[0], from_blob)


@pytest.mark.parametrize("backend", ["opencv", "torch"])
def test_rows_under_the_objectness_floor_are_left_out_without_losing_a_detection(
        backend: str, model_dir: Path, images: list[np.ndarray], batch: np.ndarray,
        torch_detector: TorchDetector) -> None:
    detector = torch_detector if backend == "torch" else OpenCVDetector(model_dir, SIZE)
    every, kept = detector.infer(batch[:4]), detector.infer(batch[:4], min_objectness=0.1)
    for image, all_rows, few_rows in zip(images[:4], every, kept, strict=True):
        np.testing.assert_array_equal(few_rows, all_rows[all_rows[:, 4] >= 0.1])
        assert 0 < len(few_rows) < len(all_rows) / 10
        height, width = image.shape[:2]
        expected, found = detections(all_rows, width, height), detections(few_rows, width, height)
        np.testing.assert_array_equal(found.xyxy, expected.xyxy)
        np.testing.assert_array_equal(found.class_id, expected.class_id)


def test_raw_rows_match_opencv_row_for_row(torch_rows: list[np.ndarray], opencv_rows: list[np.ndarray]) -> None:
    assert_rows_match_opencv(torch_rows, opencv_rows)


def test_detections_match_opencv(images: list[np.ndarray], torch_rows: list[np.ndarray],
                                 opencv_rows: list[np.ndarray]) -> None:
    assert_detections_match_opencv(images, torch_rows, opencv_rows)


def test_batch_size_does_not_change_outputs(torch_detector: TorchDetector, batch: np.ndarray) -> None:
    together = torch_detector.infer(batch[:16])
    one_by_one = [torch_detector.infer(batch[i:i + 1])[0] for i in range(16)]
    np.testing.assert_allclose(np.stack(together), np.stack(one_by_one), rtol=0, atol=1e-4)


@pytest.mark.parametrize(("change", "problem"), [
    (lambda data: data[:-1000], "truncated"),
    (lambda data: data + bytes(8), "longer than the cfg describes"),
])
def test_weights_that_do_not_fit_the_cfg_are_a_clear_error(tmp_path: Path, model_dir: Path, change,
                                                           problem: str) -> None:
    shutil.copy(model_dir / "model.cfg", tmp_path / "model.cfg")
    (tmp_path / "model.weights").write_bytes(change((model_dir / "model.weights").read_bytes()))
    with pytest.raises(FramehoundError, match=rf"^weights: file is {problem}: \d+ float32 parameters"):
        TorchDetector(tmp_path, SIZE, device="cpu")


def test_missing_torch_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(FramehoundError, match=r"pip install -r requirements-gpu.txt"):
        import_torch()


# Every layer kind of yolov3 / yolov4-tiny that the real yolov3-tiny lacks: mish, swish, relu,
# grouped conv, a conv without BN, route groups, shortcut, scale_x_y, size-3 stride-1 pooling.
SYNTHETIC_CFG = """
[net]
width=64
height=64
channels=3

[convolutional]
batch_normalize=1
filters=16
size=3
stride=2
pad=1
activation=mish

[convolutional]
batch_normalize=1
filters=16
size=3
stride=1
pad=1
groups=2
activation=swish

[route]
layers=-1
groups=2
group_id=1

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=relu

[route]
layers=-1,-2

[shortcut]
from=-4
activation=leaky

[maxpool]
size=2
stride=2

[maxpool]
size=3
stride=1

[convolutional]
filters=18
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=3,4,5
anchors=4,6, 8,10, 12,16, 20,24, 30,28, 40,44
classes=1
num=6
scale_x_y=1.05

[route]
layers=-3

[upsample]
stride=2

[route]
layers=-1,5

[convolutional]
batch_normalize=1
filters=18
size=1
stride=1
pad=1
activation=logistic

[yolo]
mask=0,1,2
anchors=4,6, 8,10, 12,16, 20,24, 30,28, 40,44
classes=1
num=6
scale_x_y=1.1
"""


def test_every_supported_layer_matches_opencv(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    (tmp_path / "model.cfg").write_text(SYNTHETIC_CFG)
    (tmp_path / "model.weights").write_bytes(random_weights(SYNTHETIC_CFG, rng))
    batch = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    ours = TorchDetector(tmp_path, 64, device="cpu").infer(batch)
    theirs = OpenCVDetector(tmp_path, 64).infer(batch)
    assert ours[0].shape == (16 * 16 * 3 + 32 * 32 * 3, 6)
    np.testing.assert_allclose(np.stack(ours), np.stack(theirs), rtol=0, atol=1e-4)


def test_weights_may_come_as_bytes_or_an_array(model_dir: Path) -> None:
    cfg = (model_dir / "model.cfg").read_text()
    data = (model_dir / "model.weights").read_bytes()
    from_bytes, from_array = build_darknet(cfg, data), build_darknet(cfg, np.frombuffer(data, np.uint8))
    assert all(a.equal(b) for a, b in zip(from_bytes.parameters(), from_array.parameters(), strict=True))
