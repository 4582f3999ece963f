"""The report page: opens from disk in a real browser, its figures equal metrics/dataset.json, it stays small."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from framehound import tables
from framehound.evaluate.run import evaluate_all
from framehound.params import load
from framehound.report.run import SHEET_SIZE, report_all
from framehound.shards import loose_jpeg_columns
from tests.test_review_browser import CHROMIUM, open_tab
from tests.test_review_project import build_project, filter_and_split


def _screen_tables(root: Path, blurred: dict[str, str]) -> None:
    """extract's and screen's tables as if screen had rejected ``blurred`` (frame_id -> rule) besides the kept."""
    kept = tables.read_table(root / "data/screen/frames.parquet", tables.FRAMES)
    extra = pd.DataFrame([kept.iloc[0].to_dict() | {"frame_id": f, "video_id": f.rsplit("_", 1)[0],
                                                   "t_ms": int(f.rsplit("_", 1)[1])} for f in blurred])
    sampled = pd.concat([kept, extra])
    tables.write_table(sampled, root / "data/extract/frames.parquet", tables.FRAMES)
    quality = sampled[["frame_id", "video_id", "t_ms"]].assign(
        dhash="0" * 16, sharpness=100.0, rejected_by=[blurred.get(f, "") for f in sampled["frame_id"]])
    tables.write_table(quality, root / "data/screen/quality.parquet", tables.QUALITY)


def _report(root: Path, groundtruth: str | None = None) -> Path:
    """Run the evaluate and report stages' functions in ``root``; the page."""
    cwd = Path.cwd()
    os.chdir(root)
    try:
        params = load("params.yaml")
        evaluate_all(replace(params.evaluate, groundtruth=groundtruth, extra_groundtruth=[]),
                     params.filter.dataset_classes, params.filter.min_confidence, Path("data/screen/frames.parquet"),
                     Path("data/filter"), Path("data/detect/detections.parquet"), Path("metrics/quality.json"),
                     Path("data/evaluate/images.csv"), Path("data/evaluate/sweep.csv"))
        report_all(params, Path("data/extract/frames.parquet"), Path("data/screen/quality.parquet"),
                   Path("data/filter"), Path("data/dataset/attribution.csv"), Path("metrics/quality.json"),
                   Path("data/evaluate/sweep.csv"), Path("data/report"), Path("data/detect/runtime.json"))
    finally:
        os.chdir(cwd)
    return root / "data/report/index.html"


def _groundtruth(root: Path) -> str:
    """A ground truth for the small run: alpha_0's person where the detector put it, and a car it missed."""
    coco = {"images": [{"id": 1, "file_name": "alpha_0.jpg", "width": 320, "height": 240}],
            "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [30, 40, 80, 180]},
                            {"id": 2, "image_id": 1, "category_id": 3, "bbox": [250, 10, 60, 40]}]}
    (root / "groundtruth").mkdir(exist_ok=True)
    (root / "groundtruth/truth.json").write_text(json.dumps(coco))
    return "groundtruth/truth.json"


@pytest.fixture
def small_run(tmp_path: Path) -> Path:
    root = build_project(tmp_path / "repo")
    filter_and_split(root)
    _screen_tables(root, {"alpha_500": "blur", "beta_500": "duplicate"})
    return root


def _open(page_path: Path, tmp_path: Path, check) -> None:
    """Open ``page_path`` from disk in Chromium and run ``check(tab)``; fail on any console or page error."""
    with open_tab(tmp_path / "profile") as (tab, errors):
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        check(tab)
    assert errors == []


def _metric(tab, name: str) -> int:
    return int(tab.locator(f'[data-metric="{name}"]').inner_text())


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium (apt-get install chromium)")
def test_the_report_opens_from_disk_its_images_load_and_its_figures_equal_the_dataset_metrics(small_run, tmp_path):
    page = _report(small_run, _groundtruth(small_run))
    metrics = json.loads((small_run / "metrics/dataset.json").read_text())
    incomplete = json.loads((small_run / "metrics/filter.json").read_text())["incomplete"]
    quality = json.loads((small_run / "metrics/quality.json").read_text())

    def check(tab) -> None:
        tab.goto(page.as_uri())
        widths = tab.eval_on_selector_all("img", "images => images.map(i => i.complete ? i.naturalWidth : 0)")
        assert widths and all(w > 0 for w in widths)
        for split, images in metrics["images"].items():
            if split != "total":
                assert _metric(tab, f"split.{split}.images") == images
                assert _metric(tab, f"split.{split}.boxes") == sum(metrics["boxes"][split].values())
                for name, boxes in metrics["boxes"][split].items():
                    assert _metric(tab, f"split.{split}.{name}") == boxes
        assert sum(_metric(tab, f"split.{s}.negatives") for s in ("train", "val", "test")) == metrics["negatives"]
        assert _metric(tab, "class.person") + _metric(tab, "class.car") == metrics["boxes_total"]
        assert _metric(tab, "video.alpha.blur") == 1 and _metric(tab, "video.beta.duplicate") == 1
        assert _metric(tab, "video.alpha.sampled") == 5 and _metric(tab, "video.alpha.kept") == 3
        for reason, count in incomplete["objects"].items():
            assert _metric(tab, f"incomplete.objects.{reason}") == count
        for outcome, count in incomplete["images"].items():
            assert _metric(tab, f"incomplete.images.{outcome}") == count
        assert (quality["images"], quality["complete_images"]) == (1, 0)  # the car has no label
        assert _metric(tab, "quality.complete_images") == 0
        assert _metric(tab, "quality.all.groundtruth_boxes") == 2 and _metric(tab, "quality.car.groundtruth_boxes") == 1

    _open(page, tmp_path, check)


def test_the_report_names_the_runtime_that_detected(small_run):
    """A dataset that changed with the machine says why: the params on the page name what ran."""
    ran = {"backend": "openvino-cpu-fp32", "runtime": "openvino 2026.4.1 fp32 model 0123456789abcdef"}
    (small_run / "data/detect").mkdir(parents=True, exist_ok=True)
    (small_run / "data/detect/runtime.json").write_text(json.dumps(ran))
    page = _report(small_run).read_text()
    assert "runtime: openvino 2026.4.1 fp32 model 0123456789abcdef" in page
    assert "backend: openvino-cpu-fp32" in page


def test_the_same_run_gives_the_same_report_bytes_contact_sheets_included(tmp_path):
    root = _large_run(tmp_path / "repo", 1_000, 20)  # more frames per class than a contact sheet shows
    first = _report(root).read_bytes()
    assert _report(root).read_bytes() == first


def _large_run(root: Path, images: int, videos: int) -> Path:
    """Tables of ``images`` labelled frames over ``videos`` videos, all pointing at one real JPEG."""
    (root / "data/frames").mkdir(parents=True)
    rng = np.random.default_rng(0)
    cv2.imwrite(str(root / "data/frames/f.jpg"), rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8))
    build_project(root / "params-only")
    (root / "params.yaml").write_bytes((root / "params-only/params.yaml").read_bytes())
    ids = [f"v{i % videos:03d}_{i}" for i in range(images)]
    frames = pd.DataFrame({"frame_id": ids, "video_id": [f.split("_")[0] for f in ids], "t_ms": range(images),
                           **loose_jpeg_columns(root / "data/frames/f.jpg"), "width": 1280,
                           "height": 720})
    x0 = rng.uniform(0, 900, images)
    labels = frames[["frame_id", "video_id"]].assign(
        class_index=rng.integers(0, 2, images), confidence=rng.uniform(0.5, 1, images),
        x_min=x0, y_min=100.0, x_max=x0 + 300, y_max=500.0)
    labels["class_name"] = labels["class_index"].map({0: "person", 1: "car"})
    tables.write_table(frames, root / "data/filter/frames.parquet", tables.FRAMES)
    tables.write_table(labels, root / "data/filter/labels.parquet", tables.LABELS)
    tables.write_table(tables.empty(tables.UNLABELLED), root / "data/filter/unlabelled.parquet", tables.UNLABELLED)
    tables.write_table(frames, root / "data/extract/frames.parquet", tables.FRAMES)
    tables.write_table(frames, root / "data/screen/frames.parquet", tables.FRAMES)
    tables.write_table(frames[["frame_id", "video_id", "t_ms"]].assign(dhash="0" * 16, sharpness=100.0,
                                                                      rejected_by=""),
                       root / "data/screen/quality.parquet", tables.QUALITY)
    (root / "data/dataset").mkdir(parents=True)
    pd.DataFrame({"image": [f"images/train/{f}.jpg" for f in ids], "video_id": frames["video_id"]}).to_csv(
        root / "data/dataset/attribution.csv", index=False)
    return root


def test_a_report_of_ten_thousand_images_is_one_page_under_20_mb_with_sampled_contact_sheets(tmp_path):
    page = _report(_large_run(tmp_path / "repo", 10_000, 400))
    assert [p.name for p in page.parent.iterdir()] == ["index.html"]
    assert page.stat().st_size < 20_000_000
    assert page.read_text().count("<img ") == 2 * SHEET_SIZE
    if CHROMIUM.is_file():  # the open time is measured, not asserted: machines are noisy
        def check(tab) -> None:
            started = time.perf_counter()
            tab.goto(page.as_uri(), wait_until="load")
            print(f"10,000-image report: {page.stat().st_size / 1e6:.2f} MB, "
                  f"opened in {time.perf_counter() - started:.2f}s")
        _open(page, tmp_path, check)


def test_a_policy_that_holds_every_image_gives_an_empty_dataset_that_names_the_way_out(tmp_path, caplog):
    """Issue 30: with filter.incomplete review (or drop), split failed with "lower filter.min_confidence" (which
    would hold more) and evaluate and report never ran. Now the dataset is empty, split says why and what to do,
    and the report shows what is held."""
    root = build_project(tmp_path / "repo")
    detections = tables.read_table(root / "data/detect/detections.parquet", tables.DETECTIONS)
    faint = [{"frame_id": f, "class_id": 0, "class_name": "person", "confidence": 0.1, "x_min": 1.0, "y_min": 1.0,
              "x_max": 9.0, "y_max": 9.0} for f in sorted(set(detections["frame_id"]))]  # a faint person in each
    tables.write_table(pd.concat([detections, pd.DataFrame(faint)]), root / "data/detect/detections.parquet",
                       tables.DETECTIONS)
    for policy, way_out in (("drop", r"drop left out (\d) labelled image\(s\) .* set filter.incomplete: mask"),
                            ("review", r"review holds (\d) labelled image\(s\) .* run `framehound review`")):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="framehound"):
            assert filter_and_split(root, incomplete=policy, incomplete_confidence=0.05) == {}
        said = rf"^the dataset is empty: filter.incomplete: {way_out}"
        held = [m for r in caplog.records if (m := re.search(said, r.getMessage()))]
        assert held and int(held[0][1]) > 0
    assert json.loads((root / "metrics/dataset.json").read_text())["images"]["total"] == 0
    _screen_tables(root, {})
    page = _report(root).read_text()
    assert f'data-metric="incomplete.images.held">{held[0][1]}<' in page
