"""COCO, YOLO and Pascal VOC exports load in the libraries people train with, box for box."""

from __future__ import annotations

import csv
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import supervision as sv
from pycocotools.coco import COCO

from framehound.params import EXPORT_FORMATS
from framehound.shards import loose_frame_rows
from framehound.split.assign import split_walk
from framehound.split.attribution import write_attribution
from framehound.split.coco import write_coco
from framehound.split.export import WRITERS, write_dataset
from framehound.split.metrics import write_plots
from framehound.split.voc import voc_xml, write_voc

CLASSES = ["person", "car", "bicycle"]
# Three videos; "test" gets none, as happens when few videos have labels.
SPLIT_OF = {"alpha": "train", "beta": "train", "gamma": "val"}
SIZES = {"alpha": (640, 360), "beta": (320, 240), "gamma": (480, 272)}
# frame_id, class, confidence, x_min, y_min, x_max, y_max (pixels, 0-based, max = far edge)
BOXES = [
    ("alpha_0", "person", 0.91, 0.0, 12.3, 80.7, 360.0),       # touches left and bottom border
    ("alpha_0", "person", 0.75, 300.2, 40.4, 340.9, 200.6),
    ("alpha_0", "car", 0.80, 100.5, 150.5, 260.25, 300.75),    # halves: round up, not to even
    ("alpha_0", "person", 0.72, 200.1, 30.0, 250.0, 190.2),
    ("beta_40", "bicycle", 0.66, 10.4, 20.6, 319.9, 200.6),   # touches the right border once rounded
    ("gamma_1000", "car", 0.99, 33.33, 44.44, 155.55, 166.66),
    ("gamma_1000", "bicycle", 0.41, 200.0, 100.0, 300.0, 200.0),
]
FRAME_IDS = ["alpha_0", "alpha_500", "beta_40", "gamma_1000"]  # alpha_500 has no boxes


def _frames(tmp_path: Path) -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(0)
    for frame_id in FRAME_IDS:
        video, t_ms = frame_id.rsplit("_", 1)
        width, height = SIZES[video]
        path = tmp_path / "frames" / video / f"{frame_id}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
        rows.append({"frame_id": frame_id, "video_id": video, "t_ms": int(t_ms), "path": path,
                     "width": width, "height": height})
    return pd.DataFrame(loose_frame_rows(rows))


def _labels() -> pd.DataFrame:
    return pd.DataFrame([
        {"frame_id": f, "video_id": f.rsplit("_", 1)[0], "class_index": CLASSES.index(c), "class_name": c,
         "confidence": conf, "x_min": x0, "y_min": y0, "x_max": x1, "y_max": y1}
        for f, c, conf, x0, y0, x1, y1 in BOXES
    ])


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Images, YOLO labels and data.yaml laid out by the split stage, then COCO and VOC files."""
    root = tmp_path / "dataset"
    frames, labels = _frames(tmp_path), _labels()
    write_dataset(root, frames, labels, SPLIT_OF, CLASSES, formats=("yolo",))
    walk = split_walk(frames, labels, SPLIT_OF)
    write_coco(root, walk, CLASSES)
    write_voc(root, walk, CLASSES)
    return root, frames, labels


def _expected(split: str) -> list[tuple]:
    """Input boxes of a split as (frame_id, class, x_min, y_min, x_max, y_max), sorted."""
    return sorted((f, c, x0, y0, x1, y1) for f, c, _, x0, y0, x1, y1 in BOXES
                  if SPLIT_OF[f.rsplit("_", 1)[0]] == split)


def _assert_same_boxes(got: list[tuple], want: list[tuple], abs_px: float) -> None:
    assert len(got) == len(want)
    for g, w in zip(sorted(got), want, strict=True):
        assert g[:2] == w[:2]
        assert g[2:] == pytest.approx(w[2:], abs=abs_px)


def _sv_boxes(ds: sv.DetectionDataset) -> dict[str, list[tuple]]:
    """Boxes per frame id from a supervision dataset, with class names instead of ids."""
    return {Path(path).stem: [(Path(path).stem, ds.classes[c], *map(float, xyxy))
                              for xyxy, c in zip(ds.annotations[path].xyxy, ds.annotations[path].class_id,
                                                 strict=True)]
            for path in ds.image_paths}


@pytest.mark.parametrize("split", ["train", "val"])
def test_pycocotools_loads_each_split_with_the_input_images_and_boxes(dataset, split):
    root, frames, _ = dataset
    coco = COCO(str(root / "annotations" / f"instances_{split}.json"))
    kept = frames[frames.video_id.map(SPLIT_OF) == split]
    assert sorted(img["file_name"] for img in coco.loadImgs(coco.getImgIds())) == \
        sorted(f"{f}.jpg" for f in kept.frame_id)
    for img in coco.loadImgs(coco.getImgIds()):
        height, width = cv2.imread(str(root / "images" / split / img["file_name"])).shape[:2]
        assert (img["width"], img["height"]) == (width, height)
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == CLASSES
    for cat_id, name in enumerate(CLASSES, start=1):
        assert len(coco.getAnnIds(catIds=[cat_id])) == sum(c == name for _, c, *_ in _expected(split))
    got = []
    for ann in coco.loadAnns(coco.getAnnIds()):
        x, y, w, h = ann["bbox"]
        assert ann["area"] == pytest.approx(w * h, abs=0.01)
        assert ann["iscrowd"] == 0
        frame_id = coco.imgs[ann["image_id"]]["file_name"].removesuffix(".jpg")
        got.append((frame_id, coco.cats[ann["category_id"]]["name"], x, y, x + w, y + h))
    _assert_same_boxes(got, _expected(split), abs_px=0.01)


def test_coco_ids_count_frames_by_id_and_boxes_by_class_then_confidence(dataset):
    root, _, _ = dataset
    coco = COCO(str(root / "annotations" / "instances_train.json"))
    assert [coco.imgs[i]["file_name"] for i in (1, 2, 3)] == ["alpha_0.jpg", "alpha_500.jpg", "beta_40.jpg"]
    order = [(coco.cats[a["category_id"]]["name"], a["bbox"][0]) for a in coco.loadAnns([1, 2, 3, 4, 5])]
    assert order == [("person", 0.0), ("person", 300.2), ("person", 200.1), ("car", 100.5), ("bicycle", 10.4)]


def test_an_empty_split_is_a_valid_coco_file_with_the_categories(dataset):
    root, _, _ = dataset
    coco = COCO(str(root / "annotations" / "instances_test.json"))
    assert coco.getImgIds() == []
    assert coco.getAnnIds() == []
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == CLASSES


@pytest.mark.parametrize("split", ["train", "val"])
def test_supervision_reads_the_yolo_labels_back_as_the_input_boxes(dataset, split):
    root, _, _ = dataset
    ds = sv.DetectionDataset.from_yolo(str(root / "images" / split), str(root / "labels" / split),
                                       str(root / "data.yaml"))
    boxes = _sv_boxes(ds)
    _assert_same_boxes([b for frame in boxes.values() for b in frame], _expected(split), abs_px=0.01)
    if split == "train":
        assert boxes["alpha_500"] == []


@pytest.mark.parametrize("split", ["train", "val"])
def test_supervision_reads_the_voc_files_back_as_the_input_boxes_on_whole_pixels(dataset, split):
    root, _, _ = dataset
    ds = sv.DetectionDataset.from_pascal_voc(str(root / "images" / split), str(root / "voc" / split))
    boxes = _sv_boxes(ds)
    half_up = [(f, c, *(math.floor(v + 0.5) for v in xyxy)) for f, c, *xyxy in _expected(split)]
    _assert_same_boxes([b for frame in boxes.values() for b in frame], half_up, abs_px=0)
    if split == "train":
        assert boxes["alpha_500"] == []


def test_voc_files_carry_every_devkit_field(dataset):
    root, _, _ = dataset
    annotation = ET.parse(root / "voc" / "train" / "alpha_0.xml").getroot()
    assert annotation.tag == "annotation"
    assert (root / annotation.findtext("folder") / annotation.findtext("filename")).is_file()
    assert annotation.findtext("filename") == "alpha_0.jpg"
    assert [annotation.findtext(f"size/{t}") for t in ("width", "height", "depth")] == ["640", "360", "3"]
    assert annotation.findtext("segmented") == "0"
    objects = [{child.tag: child.text for child in obj.iter() if not list(child)}
               for obj in annotation.findall("object")]
    assert objects[0] == {"name": "person", "pose": "Unspecified", "truncated": "1", "difficult": "0",
                          "xmin": "1", "ymin": "13", "xmax": "81", "ymax": "360"}
    assert [(o["name"], o["truncated"]) for o in objects] == \
        [("person", "1"), ("person", "0"), ("person", "0"), ("car", "0")]
    assert objects[3]["xmin"] == "102"  # 100.5 rounds half up to 101, plus VOC's 1-based offset
    assert ET.parse(root / "voc" / "train" / "beta_40.xml").findtext("object/truncated") == "1"
    empty = ET.parse(root / "voc" / "train" / "alpha_500.xml").getroot()
    assert empty.findall("object") == []
    assert empty.findtext("size/width") == "640"
    assert sorted(p.name for p in (root / "voc").iterdir()) == ["test", "train", "val"]
    assert list((root / "voc" / "test").iterdir()) == []


def test_a_sub_pixel_voc_box_still_covers_one_pixel():
    frame = pd.Series({"frame_id": "v_0", "width": 100, "height": 50})
    boxes = pd.DataFrame([{"class_index": 0, "x_min": 40.6, "y_min": 49.7, "x_max": 40.9, "y_max": 50.0}])
    bndbox = ET.fromstring(voc_xml(frame, boxes, ["person"], "train")).find("object/bndbox")
    assert [bndbox.findtext(t) for t in ("xmin", "ymin", "xmax", "ymax")] == ["42", "50", "42", "50"]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for folder in ("annotations", "voc") for p in sorted((root / folder).rglob("*")) if p.is_file()}


def test_exports_are_byte_identical_whatever_the_row_order(dataset):
    root, frames, labels = dataset
    first = _snapshot(root)
    shuffled_frames = frames.sample(frac=1, random_state=3)
    shuffled_labels = labels.sample(frac=1, random_state=4)
    walk = split_walk(shuffled_frames, shuffled_labels, SPLIT_OF)
    write_coco(root, walk, CLASSES)
    write_voc(root, walk, CLASSES)
    assert _snapshot(root) == first
    assert len(first) == 3 + len(FRAME_IDS)


def test_rewriting_voc_drops_files_of_frames_that_left_the_dataset(dataset):
    root, frames, labels = dataset
    kept = frames[frames.frame_id != "beta_40"]
    write_voc(root, split_walk(kept, labels[labels.frame_id != "beta_40"], SPLIT_OF), CLASSES)
    assert sorted(p.name for p in (root / "voc" / "train").iterdir()) == ["alpha_0.xml", "alpha_500.xml"]


def test_every_format_params_accept_has_a_writer_and_no_other():
    assert sorted(WRITERS) == sorted(EXPORT_FORMATS)


def test_attribution_text_from_sites_never_opens_as_a_spreadsheet_formula(tmp_path):
    """A title, uploader or license starting with = + - @ (or a tab or carriage return) gets a leading ';
    ids and image paths are written as they are."""
    frames = pd.DataFrame({"frame_id": ["-v_0"], "video_id": ["-v"], "t_ms": [0]})
    videos = pd.DataFrame({"id": ["-v"], "webpage_url": ["@SUM(1+1)"], "title": ["=HYPERLINK(\"http://x\")"],
                           "uploader": ["+cmd|' /C calc'!A0"], "license": ["-2+3"], "source": ["\tsrc"]})
    write_attribution(tmp_path / "attribution.csv", frames, {"-v": "train"}, videos)
    row = next(csv.DictReader((tmp_path / "attribution.csv").open(newline="")))
    assert row == {"image": "images/train/-v_0.jpg", "video_id": "-v", "timestamp": "00:00:00.000",
                   "webpage_url": "'@SUM(1+1)", "title": "'=HYPERLINK(\"http://x\")",
                   "uploader": "'+cmd|' /C calc'!A0", "license": "'-2+3", "source": "'\tsrc"}


def test_split_writes_its_plot_files_and_leaves_the_rest_of_plots_alone(tmp_path):
    """plots/ is shared: train writes plots/train.csv there; a forced split must not delete it."""
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots/train.csv").write_text("epoch,loss\n1,0.5\n")
    write_plots(tmp_path / "plots", {"classes.csv": pd.DataFrame({"class": ["car"], "boxes": [3]})})
    assert (tmp_path / "plots/train.csv").read_text() == "epoch,loss\n1,0.5\n"
    assert (tmp_path / "plots/classes.csv").read_text() == "class,boxes\ncar,3\n"
