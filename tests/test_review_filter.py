"""filter applies people's decisions after its rules, whatever the thresholds, and reports on them."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from framehound import tables
from framehound.boxes import Box
from framehound.errors import FramehoundError
from framehound.filter.run import filter_all
from framehound.hashing import sha256_file
from framehound.params import load
from framehound.review.project import ReviewProject
from framehound.shards import read_jpeg
from tests.conftest import REPO, run
from tests.test_pipeline import _tracked_files
from tests.test_review_project import build_project, filter_and_split


@pytest.fixture
def reviewed(tmp_path) -> ReviewProject:
    """Five frames decided: a reject, an accept, and edits that delete, promote and draw boxes."""
    project = ReviewProject(build_project(tmp_path))
    frames = project.frames
    project.record([
        project.decide("beta_0", None, "ann"),
        project.decide("alpha_2000", frames["alpha_2000"].proposed, "ann"),
        project.decide("alpha_0", frames["alpha_0"].proposed[:1], "ann"),                  # car deleted
        project.decide("alpha_1000", frames["alpha_1000"].proposed + frames["alpha_1000"].unlabelled, "ann"),
        project.decide("alpha_3000", [Box("person", 100, 50, 180, 230)], "bob"),           # a missed person
    ])
    return project


def classes_of(labels: dict[str, list[str]]) -> dict[str, list[str]]:
    return {frame: sorted(line.split()[0] for line in lines) for frame, lines in labels.items()}


def test_decisions_decide_the_dataset(reviewed):
    labels = filter_and_split(reviewed.root)
    assert classes_of(labels) == {"alpha_0": ["0"], "alpha_1000": ["0", "1"], "alpha_2000": ["0"],
                                  "alpha_3000": ["0"], "beta_1000": ["0"]}  # beta_0 rejected; beta_1000 by the rules
    assert labels["alpha_3000"] == ["0 0.437500 0.583333 0.250000 0.750000"]  # exactly the drawn box, normalized


def test_changing_min_confidence_keeps_every_decision(reviewed):
    strict = classes_of(filter_and_split(reviewed.root, min_confidence=0.99))
    assert strict == {"alpha_0": ["0"], "alpha_1000": ["0", "1"], "alpha_2000": ["0"], "alpha_3000": ["0"]}
    loose = classes_of(filter_and_split(reviewed.root, min_confidence=0.3))
    assert "beta_0" not in loose and loose["alpha_0"] == ["0"]  # the deleted car stays deleted


def test_metrics_count_what_people_did_per_class(reviewed):
    filter_and_split(reviewed.root)
    review = json.loads((reviewed.root / "metrics/filter.json").read_text())["review"]
    assert review["frames_reviewed"] == 5
    assert review["frames"] == {"accepted": 1, "edited": 3, "rejected": 1}
    assert review["boxes"]["person"] == {"proposed": 3, "kept": 3, "accepted": 3, "edited": 0, "deleted": 0,
                                         "added": 1, "precision": 1.0}
    assert review["boxes"]["car"] == {"proposed": 2, "kept": 0, "accepted": 0, "edited": 0, "deleted": 2,
                                      "added": 1, "precision": 0.0}
    assert review["precision"] == 0.6
    assert review["decisions_for_missing_frames"] == 0 and review["unreadable_lines"] == 0


def test_decisions_for_vanished_frames_are_kept_and_one_made_on_another_picture_is_listed_not_applied(reviewed):
    root = reviewed.root
    log = root / "reviews/decisions.jsonl"
    gone = json.loads(log.read_text().splitlines()[0]) | {"frame_id": "gamma_0", "frame_sha256": "f" * 64}
    with log.open("a") as handle:
        handle.write(json.dumps(gone) + "\n")
    frames_table = root / "data/screen/frames.parquet"
    frames = tables.read_table(frames_table, tables.FRAMES)
    row = frames.index[frames["frame_id"] == "beta_0"][0]
    jpeg = read_jpeg(root / frames.at[row, "shard"], int(frames.at[row, "offset"]), int(frames.at[row, "size"]),
                     frames.at[row, "sha256"])
    beta = root / "data/frames/beta_0.jpg"
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    cv2.imwrite(str(beta), np.roll(picture, 40, axis=1))  # same frame id, another moment: the car moved 40 px
    frames.loc[row, ["shard", "offset", "size", "sha256"]] = [
        "data/frames/beta_0.jpg", 0, beta.stat().st_size, sha256_file(beta)]
    tables.write_table(frames, frames_table, tables.FRAMES)
    before = log.read_text()
    labels = filter_and_split(root)
    assert "beta_0" in labels  # its rejection was made on another picture: the rules decide this one
    review = json.loads((root / "metrics/filter.json").read_text())["review"]
    assert review["decisions_for_missing_frames"] == 1
    assert review["decisions_on_changed_pictures"] == 1
    assert log.read_text() == before  # filter never rewrites the log
    assert "beta_0" in ReviewProject(root).changed  # the page lists it for a new decision


def filter_line(root: Path) -> str:
    """The filter stage's one-line summary in ``root``."""
    params = load(root / "params.yaml")
    cwd = Path.cwd()
    os.chdir(root)
    try:
        return filter_all(params.filter, Path("models") / params.model.name, Path("data/screen/frames.parquet"),
                          Path("data/detect/detections.parquet"), Path("data/filter"), Path("metrics/filter.json"),
                          Path("reviews/decisions.jsonl"))
    finally:
        os.chdir(cwd)


def test_the_filter_line_says_what_to_do_with_held_images(tmp_path):
    line = filter_line(build_project(tmp_path, incomplete="review"))
    assert "incomplete images: 1 held; " in line
    assert line.endswith("; 1 image(s) held out until a person decides: run `framehound review` (held frames come "
                         "first) or set filter.incomplete: mask")


def test_the_filter_line_names_decisions_made_on_another_picture(reviewed):
    root = reviewed.root
    frames_table = root / "data/screen/frames.parquet"
    frames = tables.read_table(frames_table, tables.FRAMES)
    frames.loc[frames["frame_id"] == "alpha_0", "sha256"] = "0" * 64  # what extract records for another picture
    tables.write_table(frames, frames_table, tables.FRAMES)
    line = filter_line(root)
    assert line.endswith("; 1 decision(s) not applied: made on another picture of the frame (alpha_0; decide again "
                         "in framehound review)")


@pytest.mark.parametrize("damage", ['{"frame_id": "alpha_0", "verd', '{"frame_id": "alpha_0", "verdict": "kept"}\n'])
def test_a_torn_or_damaged_decision_line_stops_the_dataset_build_in_one_line(reviewed, damage):
    """Skipping it would silently give another dataset; the review server still opens (and counts it)."""
    log = reviewed.root / "reviews/decisions.jsonl"
    with log.open("a") as handle:
        handle.write(damage)
    line = len(log.read_text().splitlines())
    with pytest.raises(FramehoundError, match=rf"^reviews/decisions\.jsonl: line {line} is not a readable decision "
                                              r"\(torn by a killed write, damaged or hand-edited\); [^\n]*git diff"):
        filter_and_split(reviewed.root)
    assert ReviewProject(reviewed.root).unreadable_lines == 1


def test_a_new_decision_makes_dvc_rerun_filter(tmp_path):
    """reviews/ (which holds decisions.jsonl) is a dependency of the filter stage, read from the repository root."""
    root = tmp_path / "repo"
    for name in _tracked_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    build_project(root)  # the outputs of the stages up to detect
    run(["git", "init", "-q"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "init"], root)
    run(["dvc", "repro", "--single-item", "filter"], root)
    assert "up to date" in run(["dvc", "status", "filter"], root).stdout
    assert json.loads((root / "metrics/filter.json").read_text())["frames_kept"] == 5
    project = ReviewProject(root)
    project.record([project.decide("beta_0", None, "ann")])
    assert re.search(r"modified: +reviews\n", run(["dvc", "status", "filter"], root).stdout)
    run(["dvc", "repro", "--single-item", "filter"], root)
    metrics = json.loads((root / "metrics/filter.json").read_text())
    assert metrics["review"]["frames"]["rejected"] == 1 and metrics["frames_kept"] == 4


def unlabelled_of(root, frame_id: str) -> list[tuple[str, str, str]]:
    table = tables.read_table(root / "data/filter/unlabelled.parquet", tables.UNLABELLED)
    return [(r.class_name, r.reason, r.outcome) for r in table[table["frame_id"] == frame_id].itertuples()]


def test_accepting_a_frame_keeps_its_unlabelled_objects_masked_until_the_person_boxes_or_dismisses_them(tmp_path):
    """alpha_1000: a labelled person beside a 0.48 car. Accepting says what the person boxed, not that the car is
    background: the dataset must not show it unlabelled."""
    project = ReviewProject(build_project(tmp_path))
    frame = project.frames["alpha_1000"]
    assert [b.class_name for b in frame.unlabelled] == ["car"] and frame.reasons == ["low_confidence"]
    project.record([project.decide("alpha_1000", frame.proposed, "ann")])
    assert classes_of(filter_and_split(project.root))["alpha_1000"] == ["0"]
    assert unlabelled_of(project.root, "alpha_1000") == [("car", "low_confidence", "masked")]

    project.record([project.decide("alpha_1000", frame.proposed, "ann", dismissals=frame.unlabelled)])
    filter_and_split(project.root)
    assert unlabelled_of(project.root, "alpha_1000") == [("car", "low_confidence", "dismissed")]  # no mask

    project.record([project.decide("alpha_1000", frame.proposed + frame.unlabelled, "ann")])
    assert classes_of(filter_and_split(project.root))["alpha_1000"] == ["0", "1"]
    assert unlabelled_of(project.root, "alpha_1000") == []  # boxed: complete


def test_a_frame_accepted_without_a_box_is_masked_where_the_detector_saw_an_object(tmp_path):
    project = ReviewProject(build_project(tmp_path))
    project.record([project.decide("alpha_1000", [], "ann")])
    labels = filter_and_split(project.root)
    assert labels["alpha_1000"] == []  # a background image...
    assert ("car", "low_confidence", "masked") in unlabelled_of(project.root, "alpha_1000")  # ...without its car


def test_a_class_added_after_a_review_gets_the_automatic_labels_and_policy_on_reviewed_frames(tmp_path):
    project = ReviewProject(build_project(tmp_path, classes=["person"]))
    project.record([project.decide(f, project.frames[f].proposed, "ann") for f in ("alpha_0", "alpha_1000")])
    assert classes_of(filter_and_split(project.root, classes=["person"]))["alpha_0"] == ["0"]
    both = classes_of(filter_and_split(project.root, classes=["person", "car"]))
    assert both["alpha_0"] == ["0", "1"]  # the 0.55 car nobody was asked about is labelled as the rules say
    assert unlabelled_of(project.root, "alpha_1000") == [("car", "low_confidence", "masked")]
    review = json.loads((project.root / "metrics/filter.json").read_text())["review"]
    assert review["reviewed_before_classes_added"] == 2
    assert ReviewProject(build_project_params(project.root, ["person", "car"])).missing_classes("alpha_0") == ["car"]


def build_project_params(root, classes: list[str]):
    """``root`` with ``filter.classes`` set to ``classes`` in params.yaml."""
    import yaml

    params = yaml.safe_load((root / "params.yaml").read_text())
    params["filter"]["classes"] = classes
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return root
