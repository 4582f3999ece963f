"""What a reviewer is shown: proposed and dimmed boxes, the most ambiguous frames first, verdicts.

Also home of ``build_project``: small synthetic pipeline outputs (real JPEGs,
real tables) that the other review tests share.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from framehound import tables
from framehound.boxes import Box
from framehound.filter.run import filter_all
from framehound.params import load
from framehound.review.project import ReviewProject
from framehound.review.queue import impact, margin, ordered, page_of, progress
from framehound.screen.groups import content_groups
from framehound.shards import pack, read_stamp
from framehound.split.run import split_all
from tests.conftest import REPO

WIDTH, HEIGHT = 320, 240
NAMES = ["person", "bicycle", "car", "dog"]
COLORS = {"person": (60, 60, 220), "car": (220, 120, 40), "dog": (40, 160, 60)}
# frame_id -> boxes (class, confidence, x_min, y_min, x_max, y_max); filter.classes = person, car at 0.5
DETECTIONS = {
    "alpha_0": [("person", 0.92, 30, 40, 110, 220), ("car", 0.55, 170, 120, 300, 200)],
    "alpha_1000": [("person", 0.80, 20, 30, 100, 210), ("car", 0.48, 150, 100, 270, 180)],
    "alpha_2000": [("person", 0.97, 200, 20, 290, 230)],
    "alpha_3000": [],
    "beta_0": [("car", 0.51, 60, 90, 250, 200)],
    "beta_1000": [("person", 0.70, 120, 30, 200, 220), ("dog", 0.90, 10, 150, 90, 230)],
}


def _image(seed: int, boxes: list[tuple]) -> np.ndarray:
    """A street-ish picture: a sky-to-road gradient, noise that makes each frame's bytes unique, and the objects."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(200, 70, HEIGHT, dtype=np.float32)[:, None, None]
    image = np.broadcast_to(ramp * np.array([1.0, 0.95, 0.85]), (HEIGHT, WIDTH, 3)).copy()
    image += rng.normal(0, 6, image.shape)
    for name, _, x0, y0, x1, y1 in boxes:
        cv2.rectangle(image, (x0 + 4, y0 + 4), (x1 - 4, y1 - 4), COLORS[name], -1)
    return np.clip(image, 0, 255).astype(np.uint8)


def build_project(root: Path, **filter_params: object) -> Path:
    """A repository after ``dvc repro detect``: params, model names, frames, screen and detect tables."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["filter"] |= {"classes": ["person", "car"], "min_confidence": 0.5, **filter_params}
    params["split"] |= {"train": 0.5, "val": 0.5, "test": 0.0, "formats": ["yolo"]}
    params["evaluate"] |= {"groundtruth": None, "extra_groundtruth": []}  # no ground truth of these synthetic frames
    root.mkdir(parents=True, exist_ok=True)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    names = root / "models" / params["model"]["name"] / "model.names"
    names.parent.mkdir(parents=True)
    names.write_text("".join(n + "\n" for n in NAMES))
    frames, detections, jpegs = [], [], {}
    for seed, (frame_id, boxes) in enumerate(DETECTIONS.items()):
        video, t_ms = frame_id.rsplit("_", 1)
        jpegs[frame_id] = cv2.imencode(".jpg", _image(seed, boxes))[1].tobytes()
        frames.append({"frame_id": frame_id, "video_id": video, "t_ms": int(t_ms), "shard": f"data/frames/{video}.zip",
                       "sha256": hashlib.sha256(jpegs[frame_id]).hexdigest(), "width": WIDTH, "height": HEIGHT})
        detections += [{"frame_id": frame_id, "class_id": NAMES.index(name), "class_name": name, "confidence": c,
                        "x_min": float(x0), "y_min": float(y0), "x_max": float(x1), "y_max": float(y1)}
                       for name, c, x0, y0, x1, y1 in boxes]
    for video in sorted({f["video_id"] for f in frames}):  # one shard a video, as extract writes them
        of_video = [f for f in frames if f["video_id"] == video]
        shard = root / f"data/frames/{video}.zip"
        shard.parent.mkdir(parents=True, exist_ok=True)
        shard.write_bytes(pack(((f["frame_id"], jpegs[f["frame_id"]]) for f in of_video), {}))
        ranges = read_stamp(shard)[1]
        for frame in of_video:
            frame["offset"], frame["size"] = ranges[frame["frame_id"]]
    tables.write_table(pd.DataFrame(frames), root / "data/screen/frames.parquet", tables.FRAMES)
    tables.write_table(pd.DataFrame(detections), root / "data/detect/detections.parquet", tables.DETECTIONS)
    videos = pd.DataFrame([{column: "" for column in tables.VIDEOS.columns} | {"id": v, "path": f"data/videos/{v}.mp4"}
                           for v in ("alpha", "beta")])
    tables.write_table(videos, root / "data/fetch/videos.csv", tables.VIDEOS)
    tables.write_table(content_groups(["alpha", "beta"], []), root / "data/screen/groups.parquet", tables.GROUPS)
    (root / "reviews").mkdir(exist_ok=True)
    (root / "reviews/decisions.jsonl").touch()
    (root / "data/checked").write_text("params.yaml: ok\n")  # what the check stage writes
    return root


def filter_and_split(root: Path, **filter_params: object) -> dict[str, list[str]]:
    """Run the filter and split stages' functions in ``root``; the dataset's label lines per frame."""
    params = load(root / "params.yaml")
    params = replace(params, filter=replace(params.filter, **filter_params))
    cwd = Path.cwd()
    os.chdir(root)  # frame paths in the tables are relative to the repository, as in a real run
    try:
        filter_all(params.filter, Path("models") / params.model.name, Path("data/screen/frames.parquet"),
                   Path("data/detect/detections.parquet"), Path("data/filter"), Path("metrics/filter.json"),
                   Path("reviews/decisions.jsonl"))
        split_all(params.split, params.filter.dataset_classes, Path("data/filter"), Path("data/fetch/videos.csv"),
                  Path("data/screen/groups.parquet"), Path("data/dataset"), Path("metrics/dataset.json"), Path("plots"),
                  base_model=Path("models") / params.model.name)
    finally:
        os.chdir(cwd)
    return {p.stem: p.read_text().splitlines() for p in (root / "data/dataset/labels").rglob("*.txt")}


@pytest.fixture
def project(tmp_path: Path) -> ReviewProject:
    return ReviewProject(build_project(tmp_path))


def test_proposed_boxes_are_what_filter_keeps_unlabelled_objects_what_it_would_mask(project):
    frame = project.frames["alpha_1000"]
    assert [(b.class_name, b.confidence) for b in frame.proposed] == [("person", 0.8)]
    assert [(b.class_name, b.confidence) for b in frame.unlabelled] == [("car", 0.48)]  # >= incomplete_confidence
    assert frame.reasons == ["low_confidence"] and frame.dimmed == []
    beta = project.frames["beta_1000"]
    assert [b.class_name for b in beta.proposed + beta.unlabelled + beta.dimmed] == ["person"]  # dog: not requested


def test_weak_boxes_are_dimmed_and_those_below_half_the_threshold_are_not_shown(tmp_path):
    weak = ReviewProject(build_project(tmp_path / "weak", incomplete_confidence=0.5))
    frame = weak.frames["alpha_1000"]
    assert frame.unlabelled == [] and [(b.class_name, b.confidence) for b in frame.dimmed] == [("car", 0.48)]
    strict = ReviewProject(build_project(tmp_path / "strict", min_confidence=0.97, incomplete_confidence=0.97))
    frame = strict.frames["alpha_1000"]
    assert frame.proposed == []
    assert [(b.class_name, b.confidence) for b in frame.dimmed] == [("person", 0.8)]  # the 0.48 car is left out


def test_frames_whose_decision_changes_the_dataset_most_come_first_then_the_most_ambiguous(project):
    assert impact(project.frames["alpha_1000"]) == pytest.approx(120 * 80 / (WIDTH * HEIGHT))  # its masked car
    assert margin(project.frames["beta_0"], 0.5) == pytest.approx(0.01)
    assert ordered(project) == ["alpha_1000", "beta_0", "alpha_0", "beta_1000", "alpha_2000", "alpha_3000"]
    assert ordered(project, class_name="car") == ["alpha_1000", "beta_0", "alpha_0"]
    assert ordered(project, video="beta") == ["beta_0", "beta_1000"]
    assert ordered(project, "masked") == ["alpha_1000"]  # the view of frames the dataset would grey
    assert page_of(project, ordered(project), 0, 3) == ["alpha_1000", "alpha_0", "beta_0"]
    assert page_of(project, ordered(project), 0, 4) == ["alpha_1000", "alpha_0", "beta_0", "beta_1000"]
    project.record([project.decide("alpha_1000", None, "ann")])
    assert ordered(project)[0] == "beta_0"  # decided: its impact is spent


def test_frames_held_for_review_come_first_and_a_decision_puts_them_back_complete(tmp_path):
    root = build_project(tmp_path / "repo", incomplete="review")
    held = ReviewProject(root)
    assert held.held == {"alpha_1000"}  # a labelled person beside a 0.48 car: an unlabelled object
    assert ordered(held)[0] == "alpha_1000"
    assert "alpha_1000" not in filter_and_split(root, incomplete="review")
    frame = held.frames["alpha_1000"]
    held.record([held.decide("alpha_1000", frame.proposed + frame.unlabelled, "ana")])
    assert ordered(ReviewProject(root))[0] == "beta_0"  # decided: back to the uncertainty order
    assert sorted(filter_and_split(root, incomplete="review")["alpha_1000"]) == [
        "0 0.187500 0.500000 0.250000 0.750000", "1 0.656250 0.583333 0.375000 0.333333"]


def test_untouched_boxes_are_accepted_and_any_change_is_an_edit(project):
    proposal = project.frames["alpha_0"].proposed
    assert project.decide("alpha_0", list(proposal), "ann").verdict == "accepted"
    moved = Box("car", 150, 120, 300, 200)
    edited = project.decide("alpha_0", [proposal[0], moved], "ann")
    assert edited.verdict == "edited"
    assert [b.confidence for b in edited.boxes] == [0.92, None]  # an unchanged box keeps the detector's confidence
    promoted = project.decide("alpha_1000", [*project.frames["alpha_1000"].proposed,
                                             *project.frames["alpha_1000"].unlabelled], "ann")
    assert promoted.verdict == "edited" and promoted.boxes[1].confidence == 0.48
    assert project.decide("alpha_0", None, "ann").verdict == "rejected"


def test_unreviewed_view_and_progress_follow_the_decisions(project):
    project.record([project.decide("beta_0", None, "ann"),
                    project.decide("alpha_0", [project.frames["alpha_0"].proposed[0]], "ann")])
    assert "beta_0" not in ordered(project, "unreviewed")
    assert ordered(project, "rejected") == ["beta_0"]
    done = progress(project)
    assert (done["reviewed"], done["total"]) == (2, 6)
    assert (done["kept"], done["proposed"]) == (1, 3)  # beta_0's car rejected, alpha_0's car deleted
    assert done["frames"] == {"accepted": 0, "edited": 1, "rejected": 1}
