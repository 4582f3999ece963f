"""The ground-truth reader: a broken COCO file stops with one line naming the image, annotation or category.

Every figure of metrics/quality.json rests on this file, so anything it cannot read exactly is an error,
never a silently different score (issue 30: duplicate ids moved boxes, ``iscrowd: "0"`` ignored every box).
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from framehound.errors import FramehoundError
from framehound.evaluate.groundtruth import class_mismatches, read_groundtruth
from framehound.evaluate.run import headline

GOOD: dict[str, Any] = {
    "images": [{"id": 1, "file_name": "images/clip_0.jpg", "width": 64, "height": 48},
               {"id": 2, "file_name": "images/clip_250.jpg", "width": 64, "height": 48}],
    "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 4, 10, 20], "iscrowd": 0},
                    {"id": 2, "image_id": 2, "category_id": 3, "bbox": [30, 10, 20, 12], "iscrowd": 1}],
}


def _write(tmp_path: Path, coco: dict) -> Path:
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(coco))
    return path


def _broken(change) -> dict:
    coco = copy.deepcopy(GOOD)
    change(coco)
    return coco


def test_a_good_file_reads(tmp_path):
    truth = read_groundtruth(_write(tmp_path, GOOD))
    assert truth.sizes == {"clip_0": (64, 48), "clip_250": (64, 48)}
    assert [b.class_name for b in truth.required["clip_0"]] == ["person"]
    assert [b.class_name for b in truth.ignored["clip_250"]] == ["car"]


def _set(where: str, index: int, key: str, value: Any):
    return lambda coco: coco[where][index].__setitem__(key, value)


BROKEN = {
    "width 0.5": (_set("images", 0, "width", 0.5), r"image 'images/clip_0.jpg' \(id 1\): width and height"),
    "width as text": (_set("images", 1, "height", "48"), r"image 'images/clip_250.jpg' \(id 2\): width and height"),
    "duplicate image id": (_set("images", 1, "id", 1), r"image 'images/clip_250.jpg': id 1 is also the id of "
                                                       r"'images/clip_0.jpg'"),
    "backslash file name": (_set("images", 0, "file_name", "images\\clip_0.jpg"),
                            r"image 'images\\\\clip_0.jpg' \(id 1\): file_name has backslashes"),
    "duplicate annotation id": (_set("annotations", 1, "id", 1), r"annotation 1 \(image 'images/clip_250.jpg'\): "
                                                                  r"id 1 appears twice"),
    "duplicate category id": (_set("categories", 1, "id", 1), r"category 'car': id 1 is also the id of 'person'"),
    "duplicate category name": (_set("categories", 1, "name", "person"), r"category 'person' \(id 3\): two "
                                                                         r"categories have that name"),
    "iscrowd as text": (_set("annotations", 0, "iscrowd", "0"), r"annotation 1 \(image 'images/clip_0.jpg'\): "
                                                                r"iscrowd must be 0 or 1, got '0'"),
    "ignore as text": (_set("annotations", 0, "ignore", "no"), r"annotation 1 \(image 'images/clip_0.jpg'\): "
                                                               r"ignore must be 0 or 1"),
    "huge bbox": (_set("annotations", 0, "bbox", [0, 0, 1e308, 10]), r"annotation 1 \(image 'images/clip_0.jpg'\): "
                                                                      r"bbox .* lies outside the 64×48 image"),
    "bbox past the bottom": (_set("annotations", 1, "bbox", [30, 40, 20, 12]),
                             r"annotation 2 \(image 'images/clip_250.jpg'\): bbox .* lies outside the 64×48 image"),
    "unknown category": (_set("annotations", 0, "category_id", 9), r"annotation 1 \(image 'images/clip_0.jpg'\): "
                                                                   r"unknown category_id 9"),
    "unknown image": (_set("annotations", 0, "image_id", 9), r"annotation 1: unknown image_id 9"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_file_is_one_line_naming_what_is_wrong(tmp_path, case):
    change, message = BROKEN[case]
    path = _write(tmp_path, _broken(change))
    with pytest.raises(FramehoundError, match=f"^{path}: {message}") as caught:
        read_groundtruth(path)
    assert "\n" not in str(caught.value)


def test_width_and_height_swapped_against_the_image_file_are_an_error(tmp_path):
    import cv2

    (tmp_path / "images").mkdir()
    for image in GOOD["images"]:
        cv2.imwrite(str(tmp_path / image["file_name"]), np.zeros((48, 64, 3), np.uint8))
    assert read_groundtruth(_write(tmp_path, GOOD)).sizes["clip_0"] == (64, 48)
    swapped = _broken(lambda coco: coco["images"][0].update(width=48, height=64))
    swapped["annotations"] = swapped["annotations"][1:]
    path = _write(tmp_path, swapped)
    with pytest.raises(FramehoundError, match=rf"^{path}: image 'images/clip_0.jpg' \(id 1\): says 48×64 but "
                                              r"the file is 64×48"):
        read_groundtruth(path)


def test_a_device_or_folder_is_refused_at_once(tmp_path):
    with pytest.raises(FramehoundError, match=r"^/dev/zero: ground truth must be a regular file"):
        read_groundtruth(Path("/dev/zero"))
    with pytest.raises(FramehoundError, match=rf"^{tmp_path}: ground truth must be a regular file"):
        read_groundtruth(tmp_path)


def test_a_class_named_only_by_case_differently_is_warned_about(tmp_path):
    path = _write(tmp_path, _broken(_set("categories", 0, "name", "Person")))
    truth = read_groundtruth(path)
    assert class_mismatches(truth, ["person", "car"]) == [
        "category 'Person' is not the class 'person' (names are case-sensitive): its boxes are not scored"]
    assert class_mismatches(read_groundtruth(_write(tmp_path, GOOD)), ["person", "car"]) == []


@pytest.mark.parametrize(("sampled", "why"), [(0, "none of their file names is a frame id of this run"),
                                              (5, "filter kept none of the 5 this run sampled")])
def test_no_ground_truth_image_in_the_dataset_says_why(sampled, why):
    figures = {"images": 0, "groundtruth_images": 49, "groundtruth_images_sampled": sampled, "precision@0.5": None,
               "recall@0.5": None, "mean_iou": None, "complete_images": 0}
    assert headline(figures).startswith(f"0 of 49 ground-truth images in the dataset ({why}): precision@0.5 n/a")


def test_check_warns_about_a_category_named_like_a_class_but_for_case(tmp_path, default_params, caplog):
    from dataclasses import replace

    from framehound import preflight
    from framehound.params import EvaluateParams

    (tmp_path / "groundtruth").mkdir()
    _write(tmp_path / "groundtruth", _broken(_set("categories", 0, "name", "Person")))
    params = replace(default_params, evaluate=EvaluateParams("groundtruth/truth.json"))
    with caplog.at_level(logging.WARNING, logger="framehound"):
        preflight.check(params, tmp_path)
    assert [r.getMessage() for r in caplog.records] == [
        "groundtruth/truth.json: category 'Person' is not the class 'person' (names are case-sensitive): its boxes "
        "are not scored"]
