"""Frames worth labeling: no near-duplicates, no blur, boxes within the rules, some negatives."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pandas as pd
import pytest

from framehound.errors import FramehoundError
from framehound.extract.frames import extract_frames
from framehound.filter.rules import select
from framehound.hashing import sha256_file
from framehound.params import ExtractParams, FilterParams, ScreenParams
from framehound.screen.quality import dhash, near_duplicates, sharpness
from framehound.screen.run import screen_frames
from framehound.shards import loose_frame_rows

NAMES = ["person", "bicycle", "car", "dog"]
FILTER = FilterParams(classes=["person", "car"], min_confidence=0.5, min_box_area=0.01, max_box_area=0.9,
                      max_boxes_per_frame=None, drop_border_boxes=False, negatives_ratio=0.0,
                      negative_max_confidence=0.1, seed=0)
SCREEN = ScreenParams(dedup_distance=4, min_sharpness=10)


def _frames_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(loose_frame_rows(rows))


def test_a_still_shot_is_kept_once_and_a_blurred_frame_not_at_all(tmp_path, bikes):
    rows = extract_frames(bikes, "bikes", tmp_path / "f", ExtractParams(fps=1, max_frames_per_video=10, max_side=640,
                                                                          jpeg_qscale=2))
    still = tmp_path / "still"
    still.mkdir()
    image = cv2.imread(str(rows[5]["path"]))
    for t in range(3):  # the same shot three times, re-encoded with different quality
        cv2.imwrite(str(still / f"s_{t}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95 - 10 * t])
    cv2.imwrite(str(still / "s_3.jpg"), cv2.GaussianBlur(image, (31, 31), 15))
    frames = _frames_table(rows + [{"frame_id": f"still_{t}", "video_id": "still", "t_ms": t,
                                    "path": still / f"s_{t}.jpg", "sha256": sha256_file(still / f"s_{t}.jpg"),
                                    "width": 640, "height": 272} for t in range(4)])
    quality = screen_frames(frames, SCREEN).set_index("frame_id")["rejected_by"]
    assert quality[["still_0", "still_1", "still_2", "still_3"]].tolist() == ["", "duplicate", "duplicate", "blur"]
    assert (quality[[r["frame_id"] for r in rows]] != "blur").all()


def test_dedup_off_keeps_every_sharp_frame(tmp_path, bikes):
    rows = extract_frames(bikes, "b", tmp_path, ExtractParams(
            fps=4, max_frames_per_video=8, max_side=320, jpeg_qscale=2))
    quality = screen_frames(_frames_table(rows), replace(SCREEN, dedup_distance=None))
    assert set(quality["rejected_by"]) <= {"", "blur"}


def test_dhash_sees_content_not_encoding():
    rng = np.random.default_rng(0)
    gray = cv2.GaussianBlur(rng.integers(0, 255, (120, 160), dtype=np.uint8), (9, 9), 3)
    noisy = np.clip(gray + rng.normal(0, 2, gray.shape), 0, 255).astype(np.uint8)
    other = cv2.flip(gray, 1)
    distance = lambda a, b: bin(dhash(a) ^ dhash(b)).count("1")  # noqa: E731
    assert distance(gray, noisy) <= 4 < distance(gray, other)
    assert sharpness(gray) > sharpness(cv2.GaussianBlur(gray, (15, 15), 7))


def test_near_duplicates_are_compared_with_every_kept_frame():
    hashes = np.array([0b0000, 0b1111, 0b0001, 0b1110], dtype=np.uint64)
    assert near_duplicates(hashes, 1).tolist() == [False, False, True, True]


def _detections(boxes: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(boxes, columns=["frame_id", "class_name", "confidence", "x_min", "y_min", "x_max", "y_max"])
    frame["class_id"] = frame["class_name"].map(NAMES.index)
    return frame


FRAMES = pd.DataFrame({"frame_id": [f"v_{i}" for i in range(6)], "video_id": "v", "t_ms": range(6),
                       "shard": "", "offset": 0, "size": 0, "width": 100, "height": 100})


def test_each_box_rule_counts_what_it_rejects():
    detections = _detections([
        ("v_0", "person", 0.9, 10, 10, 50, 50),   # kept
        ("v_0", "dog", 0.9, 10, 10, 50, 50),      # not requested: not a label, not a rejection
        ("v_1", "car", 0.4, 10, 10, 50, 50),      # low confidence
        ("v_2", "car", 0.9, 10, 10, 15, 15),      # small: 0.25% of the frame
        ("v_3", "car", 0.9, 0, 0, 100, 100),      # large
        ("v_4", "person", 0.9, 0, 20, 30, 60),    # touches the left border
    ])
    kept = select(detections, FRAMES, FILTER, NAMES)
    assert kept.labels["frame_id"].tolist() == ["v_0", "v_4"]
    assert kept.rejected == {"low_confidence": 1, "small_box": 1, "large_box": 1, "too_many_boxes": 0}
    border = select(detections, FRAMES, replace(FILTER, drop_border_boxes=True), NAMES)
    assert border.labels["frame_id"].tolist() == ["v_0"] and border.rejected["border_box"] == 1
    assert kept.labels["class_index"].tolist() == [0, 0]


def test_a_crowded_frame_is_dropped_whole():
    detections = _detections([("v_0", "person", 0.9, 10 * i, 10, 10 * i + 9, 50) for i in range(4)]
                             + [("v_1", "car", 0.9, 10, 10, 50, 50)])
    kept = select(detections, FRAMES, replace(FILTER, max_boxes_per_frame=3), NAMES)
    assert kept.frames["frame_id"].tolist() == ["v_1"]
    assert kept.rejected["too_many_boxes"] == 1


def test_negatives_are_frames_without_any_requested_class():
    detections = _detections([("v_0", "person", 0.9, 10, 10, 50, 50), ("v_1", "car", 0.2, 10, 10, 50, 50),
                              ("v_2", "dog", 0.9, 10, 10, 50, 50)])
    kept = select(detections, FRAMES, replace(FILTER, negatives_ratio=2.0), NAMES)
    negatives = set(kept.frames["frame_id"]) - {"v_0"}
    assert kept.negatives == 2 and len(negatives) == 2
    assert "v_1" not in negatives  # a car at 0.2 is too likely a missed label
    assert negatives <= {"v_2", "v_3", "v_4", "v_5"}
    again = select(detections, FRAMES, replace(FILTER, negatives_ratio=2.0), NAMES)
    assert again.frames["frame_id"].tolist() == kept.frames["frame_id"].tolist()


@pytest.mark.parametrize(("ratio", "expected"), [(0.0, 0), (1.0, 1), (3.0, 3)])
def test_negatives_follow_the_ratio(ratio, expected):
    detections = _detections([("v_0", "person", 0.9, 10, 10, 50, 50)])
    assert select(detections, FRAMES, replace(FILTER, negatives_ratio=ratio), NAMES).negatives == expected


def test_a_labelled_frame_is_never_a_negative_even_above_the_label_bar():
    # negative_max_confidence above min_confidence: kept labels of 0.6 and 0.9 stay under the negative bar.
    detections = _detections([("v_0", "person", 0.9, 10, 10, 50, 50), ("v_1", "car", 0.6, 10, 10, 50, 50),
                              ("v_2", "dog", 0.9, 10, 10, 50, 50)])
    params = replace(FILTER, negative_max_confidence=0.95, incomplete_confidence=0.95, negatives_ratio=3.0)
    kept = select(detections, FRAMES, params, NAMES)
    assert kept.labels["frame_id"].tolist() == ["v_0", "v_1"]
    assert kept.negatives == 4
    assert kept.frames["frame_id"].tolist() == [f"v_{i}" for i in range(6)]  # each frame once


def test_a_negative_shows_nothing_the_completeness_policy_would_mask():
    """Issue 30: negatives were chosen by negative_max_confidence alone, so a frame the detector missed a person
    in (labelled just before and just after) became an empty label file. A negative passes the policy too."""
    detections = _detections([("v_0", "person", 0.9, 10, 10, 50, 50), ("v_2", "person", 0.9, 14, 10, 54, 50),
                              ("v_4", "car", 0.2, 10, 10, 50, 50)])
    kept = select(detections, FRAMES, replace(FILTER, negatives_ratio=10.0), NAMES)
    assert set(kept.labels["frame_id"]) == {"v_0", "v_2"}
    assert set(kept.frames["frame_id"]) - {"v_0", "v_2"} == {"v_3", "v_5"}  # v_1: the person walked through it


def test_check_refuses_a_negative_bar_above_the_completeness_bar():
    with pytest.raises(FramehoundError, match=r"^filter.negative_max_confidence: 0.1 is above "
                                              r"filter.incomplete_confidence 0.05: a negative could show an object"):
        replace(FILTER, negatives_ratio=1.0, incomplete_confidence=0.05)
    assert replace(FILTER, negatives_ratio=0.0, incomplete_confidence=0.05).negatives_ratio == 0  # no negatives
