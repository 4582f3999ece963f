"""Label Studio and CVAT round trips: export the boxes, correct them there, import the corrections as decisions."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from framehound.boxes import Box
from framehound.review import cli
from framehound.review.project import ReviewProject
from tests.test_review_project import build_project


def review(*args: str) -> None:
    """``framehound review ARGS`` as the command line runs it."""
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    cli.run(parser.parse_args(list(args)))


def decided(root: Path) -> dict[str, tuple[str, list[tuple]]]:
    """frame_id -> (verdict, boxes rounded to a pixel) of the decisions recorded so far."""
    project = ReviewProject(root)
    return {f: (d.verdict, [(b.class_name, *(round(v) for v in (b.x_min, b.y_min, b.x_max, b.y_max)))
                            for b in project.current_boxes(f)])
            for f, d in sorted(project.decisions.items())}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return build_project(tmp_path / "repo")


def _rectangle(frame_width: int, frame_height: int, label: str, x: float, y: float, w: float, h: float) -> dict:
    return {"id": "new", "type": "rectanglelabels", "from_name": "label", "to_name": "image",
            "original_width": frame_width, "original_height": frame_height,
            "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label]}}


def test_label_studio_round_trip(root, tmp_path, capsys):
    out = root / "reviews/tasks.json"
    review("--root", str(root), "--export-labelstudio", str(out))
    tasks = json.loads(out.read_text())
    assert "6 tasks" in capsys.readouterr().out
    config = (root / "reviews/tasks.label-config.xml").read_text()
    assert '<RectangleLabels name="label" toName="image" canRotate="false">' in config  # no rotated boxes
    assert '<Label value="car"/>' in config
    by_frame = {t["data"]["frame_id"]: t for t in tasks}
    # Frames live in shards: the export writes the images it sends, and points at them
    assert by_frame["beta_0"]["data"]["image"] == "/data/local-files/?d=reviews/tasks-images/beta_0.jpg"
    assert sorted(p.name for p in (root / "reviews/tasks-images").iterdir()) == sorted(f"{f}.jpg" for f in by_frame)
    assert (root / "reviews/tasks-images/beta_0.jpg").read_bytes() == ReviewProject(root).frames["beta_0"].jpeg()
    [car] = by_frame["beta_0"]["predictions"][0]["result"]
    assert car["value"] == {"x": 18.75, "y": 37.5, "width": 59.375, "height": 45.8333, "rotation": 0,
                            "rectanglelabels": ["car"]}  # percent of the image, 4 decimals
    assert car["score"] == 0.51 and car["original_width"] == 320
    [_, masked] = by_frame["alpha_1000"]["predictions"][0]["result"]  # what the dataset would grey out, shown
    assert (masked["from_name"], masked["value"]["rectanglelabels"]) == ("masked", ["car"])

    # What annotators do in Label Studio, and what its JSON export then holds
    def annotate(frame_id: str, result: list, **extra: object) -> None:
        by_frame[frame_id]["annotations"] = [{"id": 1, "completed_by": 1, "created_username": " ann@example.com, 1",
                                              "result": result, "was_cancelled": False,
                                              "updated_at": "2026-03-01T10:00:00Z", **extra}]

    relabeled = json.loads(json.dumps(car))
    relabeled["value"]["rectanglelabels"] = ["person"]
    annotate("beta_0", [relabeled])                                               # change a label
    annotate("alpha_0", [r for r in by_frame["alpha_0"]["predictions"][0]["result"]
                         if r["value"]["rectanglelabels"] == ["person"]])         # delete a box
    turned = _rectangle(320, 240, "person", 50, 25, 20, 20)
    turned["value"]["rotation"] = 90                                              # turned about its top-left corner
    annotate("alpha_2000", [*by_frame["alpha_2000"]["predictions"][0]["result"],
                            _rectangle(320, 240, "car", 10, 50, 25, 25), turned])  # add two
    annotate("beta_1000", [{"type": "choices", "from_name": "verdict", "to_name": "image",
                            "value": {"choices": ["reject"]}}])                   # reject the frame
    annotate("alpha_1000", [], was_cancelled=True)                                # skipped: no decision
    by_frame["alpha_3000"]["data"] = {"image": "/data/upload/1/alpha_3000.jpg"}  # a task made from the image alone
    annotate("alpha_3000", by_frame["alpha_3000"]["predictions"][0]["result"])    # submitted as it was
    export = tmp_path / "export.json"
    export.write_text(json.dumps(list(by_frame.values())))

    review("--root", str(root), "--reviewer", "me", "--import-labelstudio", str(export))
    printed = capsys.readouterr()
    assert "recorded 5 decisions" in printed.out
    assert "1 rotated box(es) became the axis-aligned boxes enclosing them" in printed.err
    assert decided(root) == {
        "alpha_0": ("edited", [("person", 30, 40, 110, 220)]),
        "alpha_2000": ("edited", [("person", 200, 20, 290, 230), ("car", 32, 120, 112, 180),
                                  ("person", 112, 60, 160, 124)]),
        "alpha_3000": ("accepted", []),
        "beta_0": ("edited", [("person", 60, 90, 250, 200)]),
        "beta_1000": ("rejected", []),
    }
    project = ReviewProject(root)
    assert {d.reviewer for d in project.decisions.values()} == {"labelstudio:ann@example.com"}
    assert {d.source for d in project.decisions.values()} == {"labelstudio"}
    review("--root", str(root), "--import-labelstudio", str(export))
    assert "recorded 0 decisions" in capsys.readouterr().out  # importing twice changes nothing


def test_cvat_round_trip(root, tmp_path, capsys):
    project = ReviewProject(root)
    project.record([project.decide("alpha_1000", None, "ann")])  # rejected frames are not sent out
    out = tmp_path / "annotations.xml"
    review("--root", str(root), "--export-cvat", str(out), "--limit", "3")
    assert "3 images" in capsys.readouterr().out
    document = ET.parse(out).getroot()
    assert document.findtext("version") == "1.1"
    assert [e.findtext("name") for e in document.iter("label")] == ["person", "car", "masked", "reject"]
    images = {i.get("name"): i for i in document.iter("image")}
    assert list(images) == ["beta_0.jpg", "alpha_0.jpg", "beta_1000.jpg"]  # most ambiguous first
    assert sorted(p.name for p in (tmp_path / "annotations-images").iterdir()) == sorted(images)  # to upload
    [car] = images["beta_0.jpg"].findall("box")
    assert dict(car.attrib) == {"label": "car", "source": "auto", "occluded": "0", "xtl": "60.00", "ytl": "90.00",
                               "xbr": "250.00", "ybr": "200.00", "z_order": "0"}

    # What annotators do in CVAT, and what its "CVAT for images 1.1" export then holds
    car.set("label", "person")                                                    # change a label
    ET.SubElement(images["beta_0.jpg"], "box", label="car", source="manual", occluded="0", xtl="100", ytl="100",
                  xbr="140", ybr="120", z_order="0", rotation="90")               # a box turned about its centre
    alpha = images["alpha_0.jpg"]
    alpha.remove(next(b for b in alpha.iter("box") if b.get("label") == "car"))   # delete a box
    ET.SubElement(images["beta_1000.jpg"], "tag", label="reject", source="manual")  # reject the frame
    ET.SubElement(alpha, "box", label="car", source="manual", occluded="0", xtl="200.5", ytl="150", xbr="260",
                  ybr="210", z_order="0")                                         # add one
    ET.SubElement(document, "image", id="9", name="zeta_0.jpg", width="320", height="240")  # not ours
    edited = tmp_path / "edited.xml"
    ET.ElementTree(document).write(edited, encoding="utf-8", xml_declaration=True)

    review("--root", str(root), "--reviewer", "carla", "--import-cvat", str(edited))
    printed = capsys.readouterr()
    assert "recorded 3 decisions" in printed.out and "1 matched no frame" in printed.out
    assert "1 rotated box(es)" in printed.err
    assert decided(root) == {
        "alpha_0": ("edited", [("person", 30, 40, 110, 220), ("car", 200, 150, 260, 210)]),
        "alpha_1000": ("rejected", []),
        "beta_0": ("edited", [("person", 60, 90, 250, 200), ("car", 110, 90, 130, 130)]),
        "beta_1000": ("rejected", []),
    }
    assert ReviewProject(root).decisions["beta_0"].reviewer == "carla"


def test_a_box_from_another_tool_is_clipped_to_the_frame(root):
    project = ReviewProject(root)
    decision = project.decide("alpha_0", [Box("car", -20, 200, 400, 300)], "ann")
    assert decision.boxes == (Box("car", 0, 200, 320, 240),)
