"""Ground truth is scored on the picture it was drawn on, never on another picture that has its frame id.

Issue 30: after ``extract.fps`` 4 → 2 every ground-truth id of the default footage named another picture (ffmpeg
picks another source frame for the same nominal time), and evaluate scored them all without a word.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import pandas as pd
import pytest

from framehound import tables
from framehound.cli import main
from framehound.evaluate.groundtruth import read_groundtruth
from framehound.evaluate.identity import compare_pictures
from framehound.extract.frames import extract_frames
from framehound.params import ExtractParams
from framehound.shards import loose_frame_rows
from tests.test_review_project import build_project, filter_and_split


def _extract(video: Path, folder: Path, fps: int) -> pd.DataFrame:
    rows = extract_frames(video, "bikes", folder, ExtractParams(fps=fps, max_frames_per_video=400, max_side=320,
                                                                  jpeg_qscale=2))
    return pd.DataFrame(loose_frame_rows(rows))


def _truth_on(frames: pd.DataFrame, folder: Path) -> Path:
    """A ground truth drawn on ``frames``' pictures, kept beside it as COCO tools keep them."""
    (folder / "images").mkdir(parents=True)
    images, notes = [], []
    for number, frame in enumerate(frames.itertuples(index=False), 1):
        shutil.copy(frame.shard, folder / "images" / f"{frame.frame_id}.jpg")
        images.append({"id": number, "file_name": f"images/{frame.frame_id}.jpg", "width": int(frame.width),
                       "height": int(frame.height)})
        notes.append({"id": number, "image_id": number, "category_id": 1, "bbox": [10, 10, 40, 80]})
    path = folder / "annotations.json"
    path.write_text(json.dumps({"images": images, "annotations": notes, "categories": [{"id": 1, "name": "person"}]}))
    return path


@pytest.fixture(scope="module")
def bikes_at_4_and_2(tmp_path_factory, bikes) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    root = tmp_path_factory.mktemp("identity")
    at_4, at_2 = _extract(bikes, root / "fps4", 4), _extract(bikes, root / "fps2", 2)
    return at_4, at_2, _truth_on(at_4, root / "groundtruth")


def test_the_frames_the_ground_truth_was_drawn_on_are_the_same_pictures(bikes_at_4_and_2):
    at_4, _, truth = bikes_at_4_and_2
    pictures = compare_pictures(read_groundtruth(truth), at_4)
    assert pictures.same == sorted(at_4["frame_id"]) and pictures.other == [] and pictures.unverified == []


def test_after_an_fps_change_a_frame_id_that_shows_another_picture_is_told_apart(bikes_at_4_and_2):
    at_4, at_2, truth = bikes_at_4_and_2
    shared = sorted(set(at_4["frame_id"]) & set(at_2["frame_id"]))
    assert len(shared) >= 5
    pictures = compare_pictures(read_groundtruth(truth), at_2)
    assert pictures.other == shared and pictures.same == []


def test_a_ground_truth_picture_re_encoded_at_another_size_is_still_the_same_picture(bikes_at_4_and_2, tmp_path):
    at_4, _, truth = bikes_at_4_and_2
    coco = json.loads(truth.read_text())
    (tmp_path / "images").mkdir()
    for image in coco["images"]:  # drawn in a tool that saved the frames at twice the size, JPEG quality 80
        picture = cv2.imread(str(truth.parent / image["file_name"]))
        image["width"], image["height"] = 2 * image["width"], 2 * image["height"]
        cv2.imwrite(str(tmp_path / image["file_name"]), cv2.resize(picture, (image["width"], image["height"])),
                    [cv2.IMWRITE_JPEG_QUALITY, 80])
    for note in coco["annotations"]:
        note["bbox"] = [2 * v for v in note["bbox"]]
    (tmp_path / "annotations.json").write_text(json.dumps(coco))
    pictures = compare_pictures(read_groundtruth(tmp_path / "annotations.json"), at_4)
    assert pictures.same == sorted(at_4["frame_id"]) and pictures.other == []


def test_evaluate_refuses_another_picture_in_its_line_and_metrics_and_scores_the_rest(tmp_path, capsys):
    root = build_project(tmp_path / "repo")
    filter_and_split(root)
    frames = tables.read_table(root / "data/screen/frames.parquet", tables.FRAMES)
    truth_dir = tmp_path / "truth"
    (truth_dir / "images").mkdir(parents=True)

    def picture(frame_id: str) -> bytes:
        frame = frames.set_index("frame_id").loc[frame_id]
        with open(root / frame.shard, "rb") as shard:
            shard.seek(int(frame["offset"]))
            return shard.read(int(frame["size"]))

    (truth_dir / "images/alpha_0.jpg").write_bytes(picture("alpha_0"))
    (truth_dir / "images/alpha_1000.jpg").write_bytes(picture("beta_1000"))  # another picture under alpha_1000's id
    coco = {"images": [{"id": 1, "file_name": "images/alpha_0.jpg", "width": 320, "height": 240},
                       {"id": 2, "file_name": "images/alpha_1000.jpg", "width": 320, "height": 240},
                       {"id": 3, "file_name": "images/alpha_2000.jpg", "width": 320, "height": 240}],  # no picture
            "categories": [{"id": 1, "name": "person"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [30, 40, 80, 180]},
                            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [20, 30, 80, 180]},
                            {"id": 3, "image_id": 3, "category_id": 1, "bbox": [200, 20, 90, 210]}]}
    (truth_dir / "annotations.json").write_text(json.dumps(coco))
    assert main(["evaluate", str(truth_dir / "annotations.json"), "--root", str(root), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["groundtruth_images_other_picture"] == ["alpha_1000"]
    assert figures["groundtruth_images_unverified"] == 1
    assert figures["images"] == 2  # alpha_0 (same picture) and alpha_2000 (by id); alpha_1000 is not scored
    assert main(["evaluate", str(truth_dir / "annotations.json"), "--root", str(root)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert ("1 not scored: this run's frame of that id shows another picture" in line
                                 and "e.g. alpha_1000" in line and "1 scored by frame id alone" in line)
    assert main(["evaluate", str(truth_dir / "annotations.json"), "--root", str(root), "--sweep", "--json"]) == 0
    curve = json.loads(capsys.readouterr().out)
    assert {r["groundtruth_boxes"] for r in curve if r["class_name"] == "all"} == {2}  # alpha_1000's box left out


def test_the_report_names_the_ground_truth_images_left_unscored():
    from framehound.report.page import _other_pictures

    quality = {"groundtruth": "groundtruth/x.json", "groundtruth_images_other_picture": ["alpha_0", "alpha_1000"]}
    assert ('data-metric="quality.other_picture">2</strong> ground-truth images not scored: this run\'s frame of '
            "that id shows another picture") in _other_pictures(quality)
    assert "not scored" not in _other_pictures(quality | {"groundtruth_images_other_picture": []})
