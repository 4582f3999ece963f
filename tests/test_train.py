"""The train stage fine-tunes yolov3-tiny for real on CPU: it learns, it is reproducible, its export loads anywhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("pycocotools")

import torch

from framehound.darknet.cfg import parse_cfg, render_cfg
from framehound.darknet.layers import read_weights, resize_head
from framehound.darknet.torch_model import YoloHead
from framehound.detect.opencv_dnn import OpenCVDetector
from framehound.detect.postprocess import decode, nms_per_class
from framehound.detect.torch_backend import TorchDetector
from framehound.params import TrainParams
from framehound.train.data import load_input, read_split
from framehound.train.evaluate import coco_map
from framehound.train.export import export_model
from framehound.train.loop import Trained, fit
from framehound.train.loss import yolo_loss
from framehound.train.network import OBJECTNESS_PRIOR, build_trainable
from framehound.train.run import train_all
from tests.conftest import REPO
from tests.train_data import CLASSES, write_dataset

SIZE = 160


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """240 train and 60 val frames of 192×144 with 1–3 rectangles and discs each."""
    return write_dataset(tmp_path_factory.mktemp("dataset"), {"train": 240, "val": 60})


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("small"), {"train": 24, "val": 8}, seed=1)


@pytest.fixture(scope="module")
def trained(yolov3_tiny_dir: Path, dataset: Path) -> Trained:
    """Three epochs at 160 px on 2 CPU cores: about half a minute."""
    params = TrainParams(epochs=3, batch_size=16, image_size=SIZE, learning_rate=0.001, seed=0, device="cpu")
    return fit(params, yolov3_tiny_dir, dataset)


def test_training_learns_the_shapes_from_scratch_heads(trained: Trained) -> None:
    assert trained.before["map50"] < 0.05  # a fresh head knows nothing of rectangles and discs
    assert trained.after["map50"] >= 0.5, trained.after
    assert all(scores["map50"] >= 0.5 for scores in trained.after["per_class"].values()), trained.after
    assert 0 < trained.after["map"] < trained.after["map50"]
    losses = [row["loss"] for row in trained.history]
    assert losses == sorted(losses, reverse=True), losses  # falls every epoch


def test_the_head_is_resized_and_fresh_and_the_rest_pretrained(yolov3_tiny_dir: Path) -> None:
    base_cfg = (yolov3_tiny_dir / "model.cfg").read_text()
    torch.manual_seed(0)
    net, cfg = build_trainable(base_cfg, (yolov3_tiny_dir / "model.weights").read_bytes(), 2)
    sections = parse_cfg(cfg)
    yolos = [s for s in sections if s.type == "yolo"]
    assert [s.options["classes"] for s in yolos] == ["2", "2"]
    heads = [sections[i - 1] for i, s in enumerate(sections) if s.type == "yolo"]
    assert [s.options["filters"] for s in heads] == ["21", "21"]
    assert cfg == resize_head(base_cfg, 2)
    with torch.no_grad():
        rows = net.eval()(torch.rand(1, 3, 160, 160))
    assert rows.shape == (1, 3 * (25 + 100), 7)
    assert torch.allclose(rows[..., 4].mean(), torch.sigmoid(torch.tensor(OBJECTNESS_PRIOR)), atol=0.01)
    # The first convolution is the pretrained one: its BN statistics are not the fresh ones.
    first = net.layers[0]
    assert first.bn is not None and not torch.all(first.bn.running_var == 1)


@pytest.mark.parametrize("new_coords", [False, True])
def test_a_perfect_prediction_costs_less_than_a_wrong_one(new_coords: bool) -> None:
    """The loss points the right way: at the assigned anchor and cell, the target's logits beat their negation.

    A new_coords head (YOLOv7-tiny) reads its conv's logistic output: the same logits, squashed.
    """
    head = YoloHead([(40.0, 40.0), (80.0, 80.0)], 2, 1.0, new_coords)
    convert = torch.sigmoid if new_coords else (lambda t: t)
    targets = torch.tensor([[0, 1, 0.3, 0.6, 0.25, 0.25]])  # image 0, class 1, a 40 px box on 160 px: anchor 0
    raw = torch.full((1, 2, 7, 4, 4), -8.0)
    raw[0, 0, :, 2, 1] = torch.tensor([0.0, 0.0, 0.0, 0.0, 8.0, -8.0, 8.0])  # cell (row 2, col 1), centred
    good, good_parts = yolo_loss([(head, convert(raw).view(1, 14, 4, 4))], targets, (160, 160), [0.7])
    wrong = raw.clone()
    wrong[0, 0, 4:, 2, 1] *= -1  # objectness and class logits flipped
    bad, bad_parts = yolo_loss([(head, convert(wrong).view(1, 14, 4, 4))], targets, (160, 160), [0.7])
    assert good < bad
    assert good_parts["obj"] < 0.05 and good_parts["cls"] < 0.01
    assert bad_parts["obj"] > 7 and bad_parts["cls"] > 7
    bigger = raw.clone()
    bigger[0, 0, 2:4, 2, 1] = 1.0  # a box too large: the size term is the squared log of how much, as decoded
    _, bigger_parts = yolo_loss([(head, convert(bigger).view(1, 14, 4, 4))], targets, (160, 160), [0.7])
    decoded_w = head(convert(bigger).view(1, 14, 4, 4), 160, 160)[0, (2 * 4 + 1) * 2, 2]
    expected = (2 - 0.25 * 0.25) * 2 * torch.log(decoded_w / 0.25) ** 2
    assert bigger_parts["box"] - good_parts["box"] == pytest.approx(float(expected), rel=1e-4)


def _run_stage(yolov3_tiny_dir: Path, dataset: Path, out: Path, seed: int) -> dict[str, bytes]:
    params = TrainParams(epochs=1, batch_size=8, image_size=96, learning_rate=0.001, seed=seed, device="cpu")
    train_all(params, CLASSES, yolov3_tiny_dir, dataset, out / "train", out / "train.json", out / "train.csv")
    return {name: (out / name).read_bytes() for name in
            ("train.json", "train.csv", "train/model/model.weights", "train/model/model.cfg")}


def test_the_same_seed_gives_the_same_metrics_and_weights(yolov3_tiny_dir: Path, small_dataset: Path,
                                                          tmp_path: Path) -> None:
    first = _run_stage(yolov3_tiny_dir, small_dataset, tmp_path / "a", seed=3)
    again = _run_stage(yolov3_tiny_dir, small_dataset, tmp_path / "b", seed=3)
    other = _run_stage(yolov3_tiny_dir, small_dataset, tmp_path / "c", seed=4)
    assert first == again
    assert first["train.csv"] != other["train.csv"] and first["train/model/model.weights"] != other[
        "train/model/model.weights"]
    metrics = json.loads(first["train.json"])
    assert metrics["epochs"] == 1 and metrics["images"] == {"train": 24, "val": 8}
    assert set(metrics["per_class"]) == set(CLASSES) and "map50_before" in metrics
    assert first["train.csv"].decode().splitlines()[0] == "epoch,loss,box,obj,cls,lr,map50,map"


def test_zero_epochs_writes_a_note_and_never_imports_torch(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from framehound.params import TrainParams; "
            "from framehound.train.run import train_all; "
            "p = TrainParams(epochs=0, batch_size=16, image_size=416, learning_rate=0.001, seed=0, device='auto'); "
            f"print(train_all(p, ['a'], Path('nowhere'), Path('nowhere'), Path({str(tmp_path / 'train')!r}), "
            f"Path({str(tmp_path / 'train.json')!r}), Path({str(tmp_path / 'train.csv')!r})));"
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["skipped: train.epochs is 0 (dvc exp run -S train.epochs=30 trains)",
                                          "False"]
    assert [p.name for p in (tmp_path / "train").iterdir()] == ["README.txt"]
    assert json.loads((tmp_path / "train.json").read_text()) == {"epochs": 0}
    assert (tmp_path / "train.csv").read_text() == "epoch,loss,box,obj,cls,lr,map50,map\n"


@pytest.fixture(scope="module")
def exported(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export") / "model"
    export_model(trained.net, trained.cfg, trained.classes, trained.seen, folder)
    return folder


def test_the_export_is_darknet_format_with_bn_kept(exported: Path, trained: Trained) -> None:
    raw = (exported / "model.weights").read_bytes()
    assert np.frombuffer(raw[:12], np.int32).tolist() == [0, 2, 0]
    assert np.frombuffer(raw[12:20], np.int64).tolist() == [trained.seen]
    cfg = (exported / "model.cfg").read_text()
    assert "batch_normalize=1" in cfg and cfg.count("classes=2") == 2
    assert (exported / "model.names").read_text() == "rectangle\ndisc\n"
    assert read_weights(exported / "model.weights").size == sum(p.numel() for p in trained.net.state_dict().values()
                                                                if p.dtype == torch.float32)


def test_the_export_loads_in_opencv_and_matches_the_torch_backend(exported: Path, trained: Trained,
                                                                  dataset: Path) -> None:
    _, val = read_split(dataset, "val")
    batch = np.stack([load_input(s, SIZE) for s in val[:8]])
    theirs = OpenCVDetector(exported, SIZE).infer(batch)
    ours = TorchDetector(exported, SIZE, device="cpu").infer(batch)
    np.testing.assert_allclose(np.stack(ours), np.stack(theirs), rtol=0, atol=1e-4)
    # ... and the trained network itself (BN not folded, eval mode) computes the same rows.
    with torch.no_grad():
        own = trained.net.eval()(torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255)
    np.testing.assert_allclose(own.numpy(), np.stack(theirs), rtol=0, atol=1e-4)
    assert np.stack(theirs)[..., 4].max() > 0.5  # it found objects: the comparison is not vacuous


def test_the_exported_model_scores_in_opencv_what_training_measured(exported: Path, trained: Trained,
                                                                   dataset: Path) -> None:
    _, val = read_split(dataset, "val")
    detector = OpenCVDetector(exported, SIZE)
    rows = detector.infer(np.stack([load_input(s, SIZE) for s in val]))
    found = [nms_per_class(decode(r, s.width, s.height, 0.005), 0.45) for r, s in zip(rows, val, strict=True)]
    assert coco_map(val, CLASSES, found)["map50"] == pytest.approx(trained.after["map50"], abs=0.01)


def test_darknet_scores_the_exported_model_close_to_what_training_measured(exported: Path, trained: Trained,
                                                                           dataset: Path, darknet: Path,
                                                                           tmp_path: Path) -> None:
    """The maintained Darknet's own `detector map` on the val split, 101 recall points as COCOeval uses.

    Not equal: Darknet resizes the frames with corners aligned (detect and training use OpenCV's resize, pixel
    centres aligned), a match needs IoU above 0.5 there and 0.5 or more in COCOeval, and COCOeval keeps the 100
    most confident boxes an image. Measured: 0.9566 against 0.9556 (all-point interpolation, Darknet's default:
    0.9637).
    """
    for name in (dataset / "images" / "val").glob("*.jpg"):
        (tmp_path / "images" / "val").mkdir(parents=True, exist_ok=True)
        (tmp_path / "images" / "val" / name.name).symlink_to(name)
        shutil.copy2(dataset / "labels" / "val" / name.with_suffix(".txt").name, tmp_path / "images" / "val")
    shutil.copy2(dataset / "val.txt", tmp_path / "val.txt")
    (tmp_path / "obj.data").write_text(f"classes = 2\nvalid = val.txt\nnames = {exported / 'model.names'}\n")
    sections = parse_cfg((exported / "model.cfg").read_text())
    sections[0].options |= {"width": str(SIZE), "height": str(SIZE)}  # the size training measured at
    (tmp_path / "model.cfg").write_text(render_cfg(sections))
    result = subprocess.run([str(darknet), "detector", "map", "obj.data", "model.cfg", str(exported / "model.weights"),
                             "-points", "101", "-dont_show"], cwd=tmp_path, capture_output=True, text=True, check=True)
    darknet_map50 = float(re.search(r"mean average precision \(mAP@0\.50\) = ([\d.]+)", result.stdout).group(1))
    assert trained.after["map50"] > 0.5  # a model that finds the shapes: the comparison is not vacuous
    assert darknet_map50 == pytest.approx(trained.after["map50"], abs=0.02)
