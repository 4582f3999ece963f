"""Reviewing never makes the dataset worse on the ground truth, and reviewing the frames queued first makes it better.

The ground truth (groundtruth/sample_footage, docs/quality.md) is the yardstick: the default model's boxes on its
images are the proposals, then people decide frames in the review queue's order and the figures that
metrics/quality.json reports are taken again. Two people: one who presses `a` on every frame that shows a box
(accepting what the detector proposed, as a hurried reviewer does), and one who boxes exactly what the ground
truth holds and dismisses the rest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from framehound import tables
from framehound.boxes import iou
from framehound.darknet.cfg import read_names
from framehound.detect.backends import choose_backend
from framehound.detect.inference import detect_frames
from framehound.detect.labeler import Labeler
from framehound.evaluate.groundtruth import GroundTruth, read_groundtruth
from framehound.evaluate.run import score_dataset
from framehound.filter.decisions import apply_decisions
from framehound.filter.rules import select
from framehound.params import load
from framehound.review.project import ReviewProject
from framehound.review.queue import ordered
from tests.conftest import REPO
from tests.test_quality import GROUNDTRUTH, _groundtruth_frames

CHECKPOINTS = (0, 5, 10, 20, 30)  # frames reviewed


@pytest.fixture(scope="module")
def project(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ReviewProject:
    """The ground-truth images as a project after `dvc repro detect`, with the default params and model."""
    root = tmp_path_factory.mktemp("gt-review")
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    params = load(root / "params.yaml")
    names = root / "models" / params.model.name / "model.names"
    names.parent.mkdir(parents=True)
    shutil.copy(model_dir / "model.names", names)
    frames = _groundtruth_frames()
    labeler = Labeler.build(choose_backend(params.detect.backend)[0], model_dir, params.detect)
    detections = detect_frames(frames, labeler, read_names(names.read_text())).detections
    tables.write_table(frames, root / "data/screen/frames.parquet", tables.FRAMES)
    tables.write_table(detections, root / "data/detect/detections.parquet", tables.DETECTIONS)
    (root / "reviews").mkdir()
    (root / "reviews/decisions.jsonl").touch()
    return ReviewProject(root)


def figures(project: ReviewProject, truth: GroundTruth) -> tuple[float, int]:
    """(recall@0.5, complete images) of the dataset filter builds now, as metrics/quality.json reports them."""
    params = load(project.root / "params.yaml").filter
    frames = tables.read_table(project.root / "data/screen/frames.parquet", tables.FRAMES)
    detections = tables.read_table(project.root / "data/detect/detections.parquet", tables.DETECTIONS)
    names = read_names(next((project.root / "models").glob("*/model.names")).read_text())
    selection, _, _ = apply_decisions(select(detections, frames, params, names), frames,
                                      project.decisions_path, params)
    scored, _ = score_dataset(truth, frames, selection.frames, selection.labels, selection.unlabelled, params.classes)
    return scored["recall@0.5"], scored["complete_images"]


def review(project: ReviewProject, truth: GroundTruth, person: str) -> list[tuple[float, int]]:
    """The figures after each checkpoint of ``person`` deciding frames in the queue's order."""
    project.decisions_path.write_text("")
    project.refresh()
    queue = ordered(project)
    results, done = [], 0
    for target in CHECKPOINTS:
        for frame_id in queue[done:target]:
            frame = project.frames[frame_id]
            if person == "hurried":
                if frame.proposed:
                    project.record([project.decide(frame_id, frame.proposed, person)])
                continue
            required, ignored = truth.boxes_on(frame_id, frame.width, frame.height)
            boxes = [b for b in required if b.class_name in project.classes]
            false = [b for b in frame.unlabelled + frame.dimmed
                     if not any(iou(b, t) >= 0.3 for t in required + ignored)]
            project.record([project.decide(frame_id, boxes, person, dismissals=false)])
        done = target
        results.append(figures(project, truth))
    return results


def test_accepting_proposals_never_lowers_recall_or_complete_images(project):
    truth = read_groundtruth(GROUNDTRUTH)
    before, *after = review(project, truth, "hurried")
    assert all(recall >= before[0] and complete >= before[1] for recall, complete in after), (before, after)


def test_boxing_the_frames_the_queue_puts_first_raises_recall_and_complete_images(project, capsys):
    truth = read_groundtruth(GROUNDTRUTH)
    results = review(project, truth, "careful")
    (recall0, complete0), twenty = results[0], results[CHECKPOINTS.index(20)]
    with capsys.disabled():
        print(f"\nground truth, careful review in queue order: {list(zip(CHECKPOINTS, results, strict=True))}")
    assert all(r >= recall0 and c >= complete0 for r, c in results)
    assert twenty[0] > recall0 and twenty[1] > complete0
