"""The box type and its conversions, specified once: every other module converts through these."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from framehound.boxes import Box, UnknownClassIndex, format_labels, greedy_pairs, iou, parse_labels

CLASSES = ["person", "bicycle", "car"]


def corners(box: Box) -> tuple[float, float, float, float]:
    return box.x_min, box.y_min, box.x_max, box.y_max


def test_the_center_is_the_box_s_middle_and_size_as_fractions_of_the_image():
    box = Box("car", 10, 20, 110, 220)
    assert box.center(200, 400) == (0.3, 0.3, 0.5, 0.5)
    back = Box.from_center("car", 0.3, 0.3, 0.5, 0.5, 200, 400)
    assert back.class_name == "car" and corners(back) == pytest.approx(corners(box))


def test_normalized_coordinates_are_the_pixels_of_a_1x1_image():
    box = Box("car", 64, 27.2, 320, 136)
    normalized = Box.from_center("car", *box.center(640, 272), 1, 1)
    assert corners(normalized) == pytest.approx((0.1, 0.1, 0.5, 0.5))
    assert corners(normalized.scaled(640, 272)) == pytest.approx(corners(box))


def test_top_left_and_size_convert_both_ways():
    box = Box("car", 10, 20, 110, 220)
    assert box.xywh() == (10, 20, 100, 200)
    assert Box.from_xywh("car", *box.xywh()) == box


def test_a_table_row_is_a_box_with_its_confidence():
    row = SimpleNamespace(frame_id="v_0", class_name="car", confidence=0.5, x_min=1, y_min=2, x_max=3, y_max=4)
    assert Box.from_row(row) == Box("car", 1.0, 2.0, 3.0, 4.0, 0.5)


def test_label_lines_are_class_index_center_and_size_to_6_decimals_in_box_order():
    boxes = [Box("person", 10.5, 20.25, 110.0, 220.75), Box("car", 0.0, 0.0, 640.0, 272.0)]
    assert format_labels(boxes, CLASSES, 640, 272) == (
        "0 0.094141 0.443015 0.155469 0.737132\n"
        "2 0.500000 0.500000 1.000000 1.000000\n")
    assert format_labels([], CLASSES, 640, 272) == ""


def test_a_class_not_in_the_list_cannot_be_written():
    with pytest.raises(ValueError, match=r"^class 'dog' is not one of person, bicycle, car$"):
        format_labels([Box("dog", 0, 0, 1, 1)], CLASSES, 640, 272)


def test_label_lines_read_back_as_the_boxes_written_within_a_thousandth_of_a_pixel():
    boxes = [Box("person", 10.5, 20.25, 110.0, 220.75), Box("car", 0.0, 0.0, 640.0, 272.0)]
    read = parse_labels("\n" + format_labels(boxes, CLASSES, 640, 272) + "  \n", CLASSES, 640, 272)
    assert [b.class_name for b in read] == ["person", "car"]
    for before, after in zip(boxes, read, strict=True):
        assert corners(after) == pytest.approx(corners(before), abs=0.001)


@pytest.mark.parametrize("text", ["0 0.5 0.5 0.2\n", "0 0.5 0.5 0.2 0.2 7\n", "car 0.5 0.5 0.2 0.2\n",
                                  "0 0.5 half 0.2 0.2\n"])
def test_a_line_that_is_not_class_cx_cy_w_h_is_a_value_error(text):
    with pytest.raises(ValueError) as caught:
        parse_labels(text, CLASSES, 1, 1)
    assert not isinstance(caught.value, UnknownClassIndex)


@pytest.mark.parametrize("index", [3, -1])
def test_a_class_index_outside_the_classes_is_named(index):
    with pytest.raises(UnknownClassIndex, match=rf"^class {index} is not in the 3 classes$") as caught:
        parse_labels(f"0 0.5 0.5 0.2 0.2\n{index} 0.5 0.5 0.2 0.2\n", CLASSES, 1, 1)
    assert (caught.value.index, caught.value.classes) == (index, 3)


def test_a_malformed_line_is_reported_before_an_unknown_class_anywhere_in_the_file():
    with pytest.raises(ValueError, match="could not convert"):
        parse_labels("9 0.5 0.5 0.2 0.2\n0 x 0.5 0.2 0.2\n", CLASSES, 1, 1)


def test_a_box_parses_from_json_and_writes_back_the_same():
    raw = {"class_name": "car", "x_min": 1, "y_min": 2.5, "x_max": 30, "y_max": 40}
    box = Box.parse(raw)
    assert box == Box("car", 1.0, 2.5, 30.0, 40.0)
    assert box.as_dict() == raw  # no confidence key when there is none
    assert Box.parse(raw | {"confidence": 1}).as_dict() == raw | {"confidence": 1.0}


@pytest.mark.parametrize(("raw", "reason"), [
    ([1, 2, 3, 4], "box needs a class_name"),
    ({"x_min": 0, "y_min": 0, "x_max": 1, "y_max": 1}, "box needs a class_name"),
    ({"class_name": "", "x_min": 0, "y_min": 0, "x_max": 1, "y_max": 1}, "box needs a class_name"),
    ({"class_name": "car", "x_min": 0, "y_min": 0, "x_max": 1}, "box needs finite x_min, y_min, x_max, y_max"),
    ({"class_name": "car", "x_min": True, "y_min": 0, "x_max": 1, "y_max": 1}, "box needs finite"),
    ({"class_name": "car", "x_min": float("nan"), "y_min": 0, "x_max": 1, "y_max": 1}, "box needs finite"),
    ({"class_name": "car", "x_min": "0", "y_min": 0, "x_max": 1, "y_max": 1}, "box needs finite"),
    ({"class_name": "car", "x_min": 1, "y_min": 0, "x_max": 1, "y_max": 1}, "box is empty"),
    ({"class_name": "car", "x_min": 0, "y_min": 2, "x_max": 1, "y_max": 1}, "box is empty"),
    ({"class_name": "car", "x_min": 0, "y_min": 0, "x_max": 1, "y_max": 1, "confidence": 1.5},
     "box confidence must be a number from 0 to 1"),
    ({"class_name": "car", "x_min": 0, "y_min": 0, "x_max": 1, "y_max": 1, "confidence": True},
     "box confidence must be a number from 0 to 1"),
])
def test_a_malformed_box_is_a_value_error_that_says_what_is_wrong_and_shows_the_input(raw, reason):
    with pytest.raises(ValueError, match=rf"^{re.escape(reason)}.*: {re.escape(repr(raw))}$"):
        Box.parse(raw)


def test_a_box_is_clipped_to_the_frame_to_a_tenth_of_a_pixel_keeping_its_confidence():
    assert Box("car", -20, 10.04, 400, 100.06, 0.7).clipped(320, 240) == Box("car", 0, 10.0, 320, 100.1, 0.7)


@pytest.mark.parametrize("outside", [Box("car", 330, 10, 400, 20), Box("car", 10, -30, 20, 0),
                                     Box("car", 10.01, 10, 10.04, 20)])
def test_a_box_with_nothing_left_in_the_frame_clips_to_none(outside):
    assert outside.clipped(320, 240) is None


def test_scaling_multiplies_each_axis_and_keeps_class_and_confidence():
    assert Box("car", 10, 20, 30, 40, 0.5).scaled(2, 0.5) == Box("car", 20, 10, 60, 20, 0.5)


def test_iou_is_the_shared_area_over_the_covered_area():
    a = Box("car", 0, 0, 2, 2)
    assert iou(a, a) == 1.0
    assert iou(a, Box("person", 1, 0, 3, 2)) == pytest.approx(2 / 6)  # the class does not matter
    assert iou(a, Box("car", 2, 0, 4, 2)) == 0.0  # touching edges share no area
    assert iou(a, Box("car", 5, 5, 6, 6)) == 0.0


def test_iou_does_not_change_when_both_boxes_scale_alike_per_axis():
    a, b = Box("car", 10, 20, 110, 220), Box("car", 60, 70, 160, 300)
    assert iou(a.scaled(1 / 640, 1 / 272), b.scaled(1 / 640, 1 / 272)) == pytest.approx(iou(a, b))


def test_greedy_pairs_take_the_best_overlap_first_each_box_at_most_once():
    a = [Box("car", 0, 0, 10, 10), Box("car", 1, 0, 11, 10)]
    b = [Box("car", 1, 0, 11, 10)]  # a[1] is identical; a[0] overlaps it by 0.82
    assert greedy_pairs(a, b, 0.5) == [(1, 0, 1.0)]


def test_greedy_pairs_below_the_minimum_iou_are_left_unpaired():
    assert greedy_pairs([Box("car", 0, 0, 10, 10)], [Box("car", 5, 0, 15, 10)], 0.5) == []


def test_greedy_pairs_with_equal_overlap_go_by_index():
    a = [Box("car", 0, 0, 10, 10), Box("car", 0, 0, 10, 10)]
    b = [Box("car", 0, 0, 10, 10), Box("car", 0, 0, 10, 10)]
    assert greedy_pairs(a, b, 0.5) == [(0, 0, 1.0), (1, 1, 1.0)]
    assert greedy_pairs(a, b[:1], 0.5) == [(0, 0, 1.0)]


def test_greedy_pairs_consider_only_the_pairs_allowed():
    a = [Box("car", 0, 0, 10, 10)]
    b = [Box("car", 0, 0, 10, 10), Box("car", 1, 0, 11, 10)]
    assert greedy_pairs(a, b, 0.5, allowed=lambda i, j: j != 0) == [(0, 1, pytest.approx(9 / 11))]
