"""The labeler: passes at several sizes and mirrored, mapped back to the frame and fused into one box an object."""

from __future__ import annotations

import numpy as np
import pytest

from framehound.detect.detector import network_input
from framehound.detect.fusion import weighted_box_fusion
from framehound.detect.passes import LETTERBOX_GREY, Placement, mirrored, passes, to_frame
from framehound.detect.postprocess import BoxColumns


def _boxes(*rows: tuple[int, float, float, float, float, float]) -> BoxColumns:
    """Boxes from (class, confidence, x0, y0, x1, y1) rows."""
    array = np.array(rows, np.float64).reshape(-1, 6)
    return BoxColumns(array[:, 0].astype(np.int32), array[:, 1].astype(np.float32), array[:, 2:].astype(np.float32))


# --- fusion ------------------------------------------------------------------------------------------------------

def test_one_object_seen_by_every_pass_becomes_one_box_at_the_confidence_weighted_mean_corners():
    fused = weighted_box_fusion([_boxes((0, 0.9, 10, 10, 50, 90)), _boxes((0, 0.3, 14, 10, 54, 90))], 0.55)
    assert len(fused) == 1
    np.testing.assert_allclose(fused.xyxy[0], [11, 10, 51, 90], atol=1e-4)   # 0.75 × 10 + 0.25 × 14
    assert fused.confidence[0] == pytest.approx(0.6)                        # mean of 0.9 and 0.3, found by both


def test_an_object_only_one_pass_in_four_sees_is_a_weak_box():
    fused = weighted_box_fusion([_boxes((0, 0.8, 10, 10, 50, 90)), _boxes(), _boxes(), _boxes()], 0.55)
    assert fused.confidence.tolist() == pytest.approx([0.2])


def test_boxes_of_different_classes_or_apart_stay_apart():
    fused = weighted_box_fusion([_boxes((0, 0.9, 10, 10, 50, 90), (0, 0.7, 200, 10, 240, 90)),
                                 _boxes((2, 0.8, 10, 10, 50, 90))], 0.55)
    found = sorted(zip(fused.class_id.tolist(), fused.confidence.tolist(), strict=True))
    assert found == [(0, pytest.approx(0.35)), (0, pytest.approx(0.45)), (2, pytest.approx(0.4))]


def test_fusion_does_not_depend_on_the_order_boxes_arrive_in_a_pass():
    a = _boxes((0, 0.9, 10, 10, 50, 90), (0, 0.5, 30, 10, 70, 90), (0, 0.6, 12, 12, 48, 88))
    b = _boxes((0, 0.7, 11, 9, 52, 91), (0, 0.4, 29, 11, 71, 90))
    shuffled = BoxColumns(a.class_id[[2, 0, 1]], a.confidence[[2, 0, 1]], a.xyxy[[2, 0, 1]])
    one, two = weighted_box_fusion([a, b], 0.55), weighted_box_fusion([shuffled, b], 0.55)
    np.testing.assert_array_equal(one.xyxy, two.xyxy)
    np.testing.assert_array_equal(one.confidence, two.confidence)


def test_a_single_pass_is_left_exactly_as_it_is():
    only = _boxes((0, 0.9, 10, 10, 50, 90), (0, 0.85, 12, 12, 52, 92))
    assert weighted_box_fusion([only], 0.55) is only


# --- passes ------------------------------------------------------------------------------------------------------

def test_passes_run_every_size_then_its_mirror_in_a_fixed_order():
    assert [p.name for p in passes([416, 320], flip=True, letterbox=False)] == ["416", "416-flip", "320", "320-flip"]
    assert [p.name for p in passes([416], flip=False, letterbox=True)] == ["416-letterbox"]


def test_a_letterboxed_frame_keeps_its_aspect_centred_on_grey():
    frame = np.full((360, 640, 3), 200, np.uint8)                # 16:9
    pixels = network_input(frame, 416, letterbox=True)
    place = Placement.of(640, 360, 416, letterbox=True)
    assert (place.width, place.height, place.left, place.top) == (416, 234, 0, 91)
    assert (pixels[:91] == LETTERBOX_GREY).all() and (pixels[91 + 234:] == LETTERBOX_GREY).all()
    assert (pixels[91:91 + 234] == 200).all()


@pytest.mark.parametrize("letterbox", [False, True])
@pytest.mark.parametrize("flip", [False, True])
def test_a_box_found_in_any_view_maps_back_to_the_same_place_in_the_frame(letterbox: bool, flip: bool):
    """A bright block drawn in a frame, found in the network input by its pixels, lands where it was drawn."""
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[100:200, 64:192] = 255                                   # x 64..192, y 100..200
    pixels = network_input(frame, 416, letterbox)
    view = mirrored(pixels[None])[0] if flip else pixels
    ys, xs = np.nonzero(view[:, :, 0] > 127)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    row = np.array([[(x0 + x1) / 2 / 416, (y0 + y1) / 2 / 416, (x1 - x0) / 416, (y1 - y0) / 416]], np.float32)
    cx, cy, w, h = to_frame(row, Placement.of(640, 360, 416, letterbox), flip)[0]
    np.testing.assert_allclose([(cx - w / 2) * 640, (cy - h / 2) * 360, (cx + w / 2) * 640, (cy + h / 2) * 360],
                               [64, 100, 192, 200], atol=2.0)


def test_what_the_passes_are_is_part_of_the_detection_cache_key(model_dir, default_params):
    """A cached row is reused only for the same passes; one plain pass keeps the key detect always had."""
    from dataclasses import replace

    from framehound.detect.labeler import Labeler

    def settings(**changes: object) -> dict:
        return Labeler.build("opencv", model_dir, replace(default_params.detect, **changes)).settings()

    plain = settings(extra_sizes=[], flip=False, letterbox=False)
    assert plain == {}
    assert settings() == {"passes": ["416-letterbox", "416-letterbox-flip", "320-letterbox", "320-letterbox-flip"],
                          "fusion_iou": 0.55}
    assert settings(fusion_iou=0.6) != settings() != settings(flip=False) != settings(letterbox=False)
