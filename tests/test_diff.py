"""`framehound diff`: what changed in data/dataset/ between two revisions, read without a checkout.

The fixture is a real git + DVC repository with two commits and a saved DVC
experiment; its workspace copy of the dataset is deleted, so every read goes
through DVC to the cache (or, in one test, to a remote).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from framehound.boxes import Box
from framehound.cli import main
from framehound.datasetdiff.matching import match_boxes
from framehound.datasetdiff.revision import Revision
from framehound.datasetdiff.snapshot import Snapshot, read_label_file
from framehound.diff import diff_revisions
from framehound.errors import FramehoundError
from tests.conftest import run

# frame id -> (split, boxes as (class name, cx, cy, w, h))
Frames = dict[str, tuple[str, list[tuple[str, float, float, float, float]]]]

REV_A_CLASSES = ["person", "bicycle", "car", "traffic light"]  # a name with a space
REV_A: Frames = {
    "v1_0": ("train", [("person", 0.2, 0.2, 0.2, 0.2), ("car", 0.7, 0.7, 0.2, 0.2)]),
    "v1_250": ("train", [("person", 0.5, 0.5, 0.3, 0.3)]),
    "v1_500": ("train", [("bicycle", 0.5, 0.5, 0.4, 0.4)]),
    "v2_0": ("val", [("car", 0.5, 0.5, 0.2, 0.2)]),
    "v3_0": ("test", [("person", 0.5, 0.5, 0.2, 0.2)]),
    "v5_0": ("train", [("bicycle", 0.5, 0.5, 0.2, 0.2)]),
}
REV_A_PARAMS = {"extract": {"fps": 4}, "filter": {"min_confidence": 0.5, "classes": REV_A_CLASSES},
                "split": {"seed": 42}}

# Class indices renumbered: an unchanged box is written with a new index.
REV_B_CLASSES = ["car", "person", "bicycle", "traffic light"]
REV_B: Frames = {
    "v1_0": ("train", [("person", 0.2, 0.2, 0.2, 0.2), ("person", 0.7, 0.2, 0.1, 0.1)]),  # +person, -car
    "v1_250": ("val", [("person", 0.5, 0.5, 0.3, 0.3)]),  # moved train -> val, boxes as before
    "v1_500": ("train", [("car", 0.5, 0.5, 0.4, 0.4)]),  # bicycle re-classed as car
    "v2_0": ("val", [("car", 0.53, 0.5, 0.2, 0.2)]),  # shifted: IoU 0.74
    "v4_0": ("train", [("bicycle", 0.4, 0.6, 0.2, 0.3), ("traffic light", 0.85, 0.1, 0.05, 0.1)]),  # new; v3_0 gone
    # The same label file bytes ("1 ..."), but class 1 is now person: re-classed by obj.names alone.
    "v5_0": ("train", [("person", 0.5, 0.5, 0.2, 0.2)]),
}
REV_B_PARAMS = {"detect": {"half": True}, "filter": {"min_confidence": 0.3, "classes": REV_B_CLASSES},
                "split": {"seed": 42}}

# An experiment on top of rev B: the new image's bicycle becomes a person.
EXP = {**REV_B, "v4_0": ("train", [("person", 0.4, 0.6, 0.2, 0.3), ("traffic light", 0.85, 0.1, 0.05, 0.1)])}


def write_dataset(root: Path, classes: list[str], frames: Frames, params: dict) -> None:
    """data/dataset/ in the layout the split stage writes, and params.yaml."""
    dataset = root / "data" / "dataset"
    shutil.rmtree(dataset, ignore_errors=True)
    lists: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for frame_id, (split, boxes) in frames.items():
        for folder in ("images", "labels"):
            (dataset / folder / split).mkdir(parents=True, exist_ok=True)
        (dataset / "images" / split / f"{frame_id}.jpg").write_bytes(frame_id.encode())
        (dataset / "labels" / split / f"{frame_id}.txt").write_text("".join(
            f"{classes.index(name)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n" for name, cx, cy, w, h in boxes))
        lists[split].append(f"images/{split}/{frame_id}.jpg")
    for split, images in lists.items():
        (dataset / f"{split}.txt").write_text("".join(f"{image}\n" for image in sorted(images)))
    (dataset / "obj.names").write_text("".join(f"{name}\n" for name in classes))
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def track(root: Path) -> None:
    run(["dvc", "add", "-q", "data/dataset"], root)
    run(["git", "add", "-A"], root)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("diffrepo")
    run(["git", "init", "-q"], root)
    run(["dvc", "init", "-q"], root)
    run(["dvc", "config", "core.analytics", "false"], root)
    write_dataset(root, REV_A_CLASSES, REV_A, REV_A_PARAMS)
    track(root)
    run(["git", "commit", "-qm", "rev A"], root)
    write_dataset(root, REV_B_CLASSES, REV_B, REV_B_PARAMS)
    track(root)
    run(["git", "commit", "-qm", "rev B"], root)
    write_dataset(root, REV_B_CLASSES, EXP, REV_B_PARAMS)
    run(["dvc", "add", "-q", "data/dataset"], root)
    run(["dvc", "exp", "save", "-q", "-n", "relabel"], root)
    shutil.rmtree(root / "data" / "dataset")  # reads must not need the workspace
    return root


def exp_ref(root: Path, name: str) -> str:
    refs = run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], root).stdout.split()
    return next(ref for ref in refs if ref.endswith(f"/{name}"))


def commit(root: Path, rev: str) -> str:
    return run(["git", "rev-parse", rev], root).stdout.strip()


def test_diff_reports_images_boxes_by_class_name_and_params(repo):
    assert diff_revisions(repo, "HEAD~1", "HEAD") == {
        "a": {"rev": "HEAD~1", "commit": commit(repo, "HEAD~1")},
        "b": {"rev": "HEAD", "commit": commit(repo, "HEAD")},
        "thresholds": {"iou": 0.5, "moved_iou": 0.9},
        "classes": {"old": REV_A_CLASSES, "new": REV_B_CLASSES},
        "images": {
            "train": {"before": 4, "after": 4, "added": ["v4_0"], "removed": []},
            "val": {"before": 1, "after": 2, "added": [], "removed": []},
            "test": {"before": 1, "after": 0, "added": [], "removed": ["v3_0"]},
        },
        "moved_images": [{"frame_id": "v1_250", "from": "train", "to": "val"}],
        "boxes": {
            "bicycle": {"added": 1, "removed": 0, "moved": 0, "reclassed_out": 2, "reclassed_in": 0},
            "car": {"added": 0, "removed": 1, "moved": 1, "reclassed_out": 0, "reclassed_in": 1},
            "person": {"added": 1, "removed": 1, "moved": 0, "reclassed_out": 0, "reclassed_in": 1},
            "traffic light": {"added": 1, "removed": 0, "moved": 0, "reclassed_out": 0, "reclassed_in": 0},
        },
        "reclassed": [{"from": "bicycle", "to": "car", "boxes": 1}, {"from": "bicycle", "to": "person", "boxes": 1}],
        "frames_changed": ["v1_0", "v1_500", "v2_0", "v5_0"],
        "params": {
            "detect.half": {"new": True},
            "extract.fps": {"old": 4},
            "filter.classes": {"old": REV_A_CLASSES, "new": REV_B_CLASSES},
            "filter.min_confidence": {"old": 0.5, "new": 0.3},
        },
    }


def test_thresholds_decide_what_counts_as_moved(repo):
    # The shifted car overlaps its old box by 0.74: the same object at --iou 0.5,
    # unchanged at --moved-iou 0.7, and two different boxes at --iou 0.8.
    assert diff_revisions(repo, "HEAD~1", "HEAD", moved_iou=0.7)["boxes"]["car"]["moved"] == 0
    strict = diff_revisions(repo, "HEAD~1", "HEAD", iou=0.8)["boxes"]["car"]
    assert (strict["moved"], strict["added"], strict["removed"]) == (0, 1, 2)


def test_json_output_is_sorted_and_matches_the_library(repo, capsys):
    assert main(["diff", "HEAD~1", "HEAD", "--json", "--repo", str(repo)]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == diff_revisions(repo, "HEAD~1", "HEAD")
    assert out == json.dumps(json.loads(out), indent=2, sort_keys=True) + "\n"


def tables(text: str) -> dict[str, dict[str, list[str]]]:
    """Each block of the output by its header's first word: first word of each row -> the other words."""
    blocks = {}
    for block in text.split("\n\n"):
        header, *rows = block.splitlines()
        blocks[header.split()[0]] = {row.split()[0]: row.split()[1:] for row in rows}
    return blocks


def test_table_shows_the_key_numbers(repo, capsys):
    assert main(["diff", "HEAD~1", "HEAD", "--repo", str(repo)]) == 0
    out = capsys.readouterr().out
    a, b = commit(repo, "HEAD~1")[:7], commit(repo, "HEAD")[:7]
    assert out.startswith(f"dataset diff: HEAD~1 ({a}) -> HEAD ({b})\n\n"
                          "classes: person, bicycle, car, traffic light -> car, person, bicycle, traffic light\n\n")
    found = tables(out)
    assert found["images"] == {  # before, after, added, removed, moved in, moved out
        "train": ["4", "4", "1", "0", "0", "1"], "val": ["1", "2", "0", "0", "1", "0"],
        "test": ["1", "0", "0", "1", "0", "0"]}
    assert found["moved"] == {"train": ["val", "1"]}
    assert found["boxes"] == {  # added, removed, moved, re-classed out, re-classed in
        "bicycle": ["1", "0", "0", "2", "0"], "car": ["0", "1", "1", "0", "1"],
        "person": ["1", "1", "0", "0", "1"], "traffic": ["light", "1", "0", "0", "0", "0"]}
    assert [ln.split() for ln in out.split("re-classed from")[1].splitlines()[1:3]] == [
        ["bicycle", "car", "1"], ["bicycle", "person", "1"]]
    assert found["params"]["filter.min_confidence"] == ["0.5", "0.3"]
    assert found["params"]["extract.fps"] == ["4", "(absent)"]
    assert found["params"]["detect.half"] == ["(absent)", "true"]
    lines = out.splitlines()
    header = next(ln for ln in lines if ln.startswith("boxes"))
    assert all(len(ln) == len(header) for ln in lines if ln.split()[:1] in (["car"], ["person"])), \
        "numbers are right-aligned under their column"


def test_experiment_by_name_and_by_full_ref(repo):
    by_name = diff_revisions(repo, "HEAD", "relabel")
    by_ref = diff_revisions(repo, "HEAD", exp_ref(repo, "relabel"))
    assert by_name["b"]["commit"] == by_ref["b"]["commit"] == commit(repo, exp_ref(repo, "relabel"))
    assert by_name["reclassed"] == by_ref["reclassed"] == [{"from": "bicycle", "to": "person", "boxes": 1}]
    assert by_name["frames_changed"] == ["v4_0"]
    assert by_name["moved_images"] == [] and by_name["params"] == {}
    assert all(not (s["added"] or s["removed"]) for s in by_name["images"].values())


def test_same_revision_has_no_changes(repo, capsys):
    assert main(["diff", "HEAD", "HEAD", "--repo", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "boxes: no changes" in out and "params: no changes" in out


def test_unknown_revision_is_one_error_line(repo, capsys):
    assert main(["diff", "HEAD", "no-such-rev", "--repo", str(repo)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: unknown revision 'no-such-rev': not a git revision or experiment in {repo}\n"


def test_reads_from_the_remote_when_the_cache_is_gone(repo, tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(repo, clone)
    run(["dvc", "remote", "add", "--local", "-d", "store", str(tmp_path / "store")], clone)
    run(["dvc", "push", "-q", "-A"], clone)
    shutil.rmtree(clone / ".dvc" / "cache")
    assert diff_revisions(clone, "HEAD~1", "HEAD")["boxes"] == diff_revisions(repo, "HEAD~1", "HEAD")["boxes"]


def test_data_in_neither_cache_nor_remote_names_the_file_and_revision(repo, tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(repo, clone)
    shutil.rmtree(clone / ".dvc" / "cache")
    with pytest.raises(FramehoundError, match=r"^data/dataset/obj\.names: .* at revision 'HEAD~1'$"):
        diff_revisions(clone, "HEAD~1", "HEAD")


def box(name: str, x: float, y: float, size: float = 0.2) -> Box:
    return Box(name, x, y, x + size, y + size)


def test_a_box_with_a_same_class_partner_is_not_reclassed():
    # A person next to a bicycle, both shifted right: the new person box sits
    # exactly where the bicycle was (IoU 1.0), but each box still overlaps its
    # own class's old box by 0.54, so both moved and nothing was re-classed.
    old = [box("person", 0.30, 0.3), box("bicycle", 0.36, 0.3)]
    new = [box("person", 0.36, 0.3), box("bicycle", 0.42, 0.3)]
    changes = match_boxes(old, new, iou_min=0.5, moved_iou=0.9)
    assert sorted(changes.moved) == ["bicycle", "person"]
    assert (changes.reclassed, changes.added, changes.removed) == ([], [], [])


def test_matching_is_greedy_by_iou_one_to_one():
    old = [box("car", 0.30, 0.3)]
    new = [box("car", 0.33, 0.3), box("car", 0.30, 0.3)]
    changes = match_boxes(old, new, iou_min=0.5, moved_iou=0.9)
    assert (changes.moved, changes.added, changes.removed) == ([], ["car"], [])
    assert not match_boxes(new, new, iou_min=0.5, moved_iou=0.9)


@pytest.mark.parametrize(("text", "error"), [
    ("0 0.5 0.5 0.2 0.2\n3 0.5 0.5 0.2 0.2\n", r"class 3 is not in obj\.names \(3 classes\)"),
    ("0 0.5 0.5\n", r"not YOLO label lines 'class cx cy w h' \(not enough values to unpack .*\)"),
])
def test_a_label_file_that_cannot_be_read_names_itself_its_revision_and_what_is_wrong(text, error):
    snapshot = Snapshot(Revision("HEAD~1", "0" * 40, None), ["person", "bicycle", "car"], {}, {}, {})
    path = "data/dataset/labels/train/v1_0.txt"
    with pytest.raises(FramehoundError, match=rf"^{re.escape(path)} at revision 'HEAD~1': {error}$"):
        read_label_file(snapshot, path, text.encode())
