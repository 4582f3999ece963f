"""The trainers people use accept the dataset as written.

The maintained Darknet (built from ``../shared/darknet``) trains on the export with README's command as
written, cuts the same backbone we ship, and finds the detect stage's boxes with the default model; what
trainers write into the dataset (Ultralytics' label caches, Darknet's weights) leaves ``dvc status`` clean.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from framehound.darknet.cfg import parse_cfg, read_names, render_cfg
from framehound.darknet.layers import backbone_weights, read_weights
from framehound.detect.detector import network_input
from framehound.detect.opencv_dnn import OpenCVDetector
from framehound.detect.postprocess import decode, nms_per_class
from framehound.layout import paths
from framehound.split.export import write_dataset
from tests.conftest import REPO, run
from tests.test_exports import CLASSES, SPLIT_OF, _frames, _labels
from tests.test_readme import shell_blocks

DARKNET_TRAIN = "cd data/dataset && darknet detector train"
DEFAULT_MODEL = yaml.safe_load((REPO / "params.yaml").read_text())["model"]["name"]


def readme_line(start: str) -> str:
    """The one command of README's shell blocks that starts with ``start``."""
    found = [c for block in shell_blocks(REPO / "README.md") for c in block.commands if c.startswith(start)]
    assert len(found) == 1, found
    return found[0]


def with_darknet(darknet: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{darknet.parent}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture
def project(tmp_path: Path, model_dir: Path) -> Path:
    """A project whose data/dataset the split stage's export wrote, Darknet's files from the default model."""
    write_dataset(tmp_path / paths.dataset, _frames(tmp_path), _labels(), SPLIT_OF, CLASSES, base_model=model_dir)
    return tmp_path


def shorten(cfg: Path) -> None:
    """Three iterations of 2 images at 64 px: the training a test can afford on a CPU."""
    sections = parse_cfg(cfg.read_text())
    sections[0].options |= {"batch": "2", "subdivisions": "1", "width": "64", "height": "64", "max_batches": "3",
                            "steps": "2,3"}
    cfg.write_text(render_cfg(sections))


def test_readmes_darknet_command_trains_on_the_export_and_saves_its_weights(project, darknet):
    command = readme_line(DARKNET_TRAIN)
    dataset = project / paths.dataset
    name = DEFAULT_MODEL
    shorten(dataset / f"{name}.cfg")
    result = subprocess.run(["bash", "-c", command], cwd=project, env=with_darknet(darknet), capture_output=True,
                            text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Can't open label file" not in output
    assert re.search(r"count: [1-9]", output), "Darknet matched no box of the labels"
    assert (dataset / "backup" / f"{name}_final.weights").is_file()


def test_the_darknet_cfg_has_the_datasets_classes_and_training_batches(project):
    sections = parse_cfg((project / paths.dataset / f"{DEFAULT_MODEL}.cfg").read_text())
    net = sections[0].options
    assert (net["batch"], net["subdivisions"], net["max_batches"], net["steps"]) == ("64", "16", "6000", "4800,5400")
    yolos = [i for i, s in enumerate(sections) if s.type == "yolo"]
    assert [sections[i].options["classes"] for i in yolos] == ["3", "3"]
    assert [sections[i - 1].options["filters"] for i in yolos] == ["24", "24"]  # 3 anchors × (5 + 3 classes)


def test_the_backbone_weights_are_what_darknet_partial_cuts(model_dir, darknet, tmp_path):
    layers, ours = backbone_weights((model_dir / "model.cfg").read_text(), model_dir / "model.weights")
    assert layers == 29  # yolov4-tiny.conv.29, as Darknet's own instructions name it
    subprocess.run([str(darknet), "partial", str(model_dir / "model.cfg"), str(model_dir / "model.weights"),
                    "theirs.conv", str(layers)], cwd=tmp_path, capture_output=True, check=True)
    assert np.array_equal(read_weights(ours), read_weights(tmp_path / "theirs.conv"))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None).prod()
    return float(inter / ((a[2:] - a[:2]).prod() + (b[2:] - b[:2]).prod() - inter))


def _unmatched(boxes: list[tuple], others: list[tuple], at: float) -> list[tuple]:
    """Boxes at confidence ``at`` or more that no box of ``others`` repeats: same frame and class, IoU >= 0.99,
    confidence within 0.001."""
    return [box for box in boxes if box[2] >= at and not any(
        o[:2] == box[:2] and abs(o[2] - box[2]) <= 0.001 and _iou(o[3], box[3]) >= 0.99 for o in others)]


def test_darknet_finds_the_detect_stages_boxes_with_the_model_stages_files(model_dir, darknet, tmp_path, bikes):
    """Darknet reads models/<name>/model.cfg and model.weights as the detect stage does (its third reader,
    beside OpenCV and PyTorch): the same boxes at the same confidence, every box above 0.2.

    The frames go in as the network sees them, resized by the detect stage (lossless PNG, so Darknet's own
    resize is a no-op). From the JPEGs themselves Darknet resizes with corners aligned, OpenCV with pixel
    centres aligned: the boxes still overlap by IoU 0.97 or more, confidences differ by up to 0.06.
    """
    capture, images = cv2.VideoCapture(str(bikes)), []
    for index in range(0, 250, 25):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = capture.read()
        assert ok
        images.append(tmp_path / f"bikes_{index}.png")
        cv2.imwrite(str(images[-1]), cv2.cvtColor(network_input(frame, 416), cv2.COLOR_RGB2BGR))
    (tmp_path / "model.data").write_text(f"classes = 80\nnames = {model_dir / 'model.names'}\n")
    subprocess.run([str(darknet), "detector", "test", "model.data", str(model_dir / "model.cfg"),
                    str(model_dir / "model.weights"), "-thresh", "0.2", "-dont_show", "-out", "result.json"],
                   input="".join(f"{p}\n" for p in images), cwd=tmp_path, capture_output=True, text=True, check=True)
    names = read_names((model_dir / "model.names").read_text())
    theirs, ours = [], []
    detector = OpenCVDetector(model_dir, 416)
    for result in json.loads((tmp_path / "result.json").read_text()):
        image = cv2.imread(result["filename"])
        height, width = image.shape[:2]
        frame = Path(result["filename"]).stem
        for found in result["objects"]:
            c = found["relative_coordinates"]
            xyxy = np.clip(np.array([c["center_x"] - c["width"] / 2, c["center_y"] - c["height"] / 2,
                                     c["center_x"] + c["width"] / 2, c["center_y"] + c["height"] / 2])
                           * [width, height, width, height], 0, [width, height, width, height])
            theirs.append((frame, found["name"], found["confidence"], xyxy))
        boxes = nms_per_class(decode(detector.infer(network_input(image, 416)[None])[0], width, height, 0.2), 0.45)
        ours += [(frame, names[c], float(p), xyxy.astype(np.float64))
                 for c, p, xyxy in zip(boxes.class_id, boxes.confidence, boxes.xyxy, strict=True)]
    assert len(theirs) >= 5, "too few boxes to compare"
    assert _unmatched(theirs, ours, at=0.201) == []
    assert _unmatched(ours, theirs, at=0.201) == []


def test_what_trainers_write_into_the_dataset_leaves_dvc_status_clean(tmp_path):
    """Ultralytics writes labels/<split>.cache beside the labels, Darknet its weights into backup/."""
    shutil.copy2(REPO / ".dvcignore", tmp_path / ".dvcignore")
    (tmp_path / "export.py").write_text(
        "from pathlib import Path\n"
        f"root = Path({paths.dataset!r})\n"
        "for name in ('labels/train/a.txt', 'images/train/a.txt', 'backup/README.txt'):\n"
        "    (root / name).parent.mkdir(parents=True, exist_ok=True)\n"
        "    (root / name).write_text('0 0.5 0.5 0.2 0.2\\n')\n")
    for command in (["git", "init", "-q"], ["dvc", "init", "-q"],
                    ["dvc", "stage", "add", "-q", "-n", "split", "-d", "export.py", "-o", paths.dataset,
                     "python export.py"], ["dvc", "repro", "-q"]):
        run(command, tmp_path)
    dataset = tmp_path / paths.dataset
    for written in ("labels/train.cache", "labels/val.cache", f"backup/{DEFAULT_MODEL}_last.weights"):
        (dataset / written).write_bytes(b"written by a trainer")
    assert "up to date" in run(["dvc", "status"], tmp_path).stdout
    (dataset / "labels/train/a.txt").write_text("1 0.5 0.5 0.2 0.2\n")
    assert "modified:" in run(["dvc", "status"], tmp_path).stdout  # the labels themselves still count
