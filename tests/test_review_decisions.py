"""reviews/decisions.jsonl: append-only, one line per decision, torn lines survived, latest wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framehound.boxes import Box
from framehound.decisions.log import Decision, append, contents, match, read_log, unchanged_since
from framehound.errors import FramehoundError


def decision(frame_id: str = "v_0", sha: str = "a" * 64, verdict: str = "edited",
             time: str = "2026-01-01T00:00:00.000Z", boxes: tuple[Box, ...] = (Box("car", 1, 2, 30, 40),)) -> Decision:
    return Decision(sha, frame_id, verdict, () if verdict == "rejected" else boxes, 320, 240, "ann", time)


def test_each_decision_is_one_sorted_json_line_that_reads_back_equal(tmp_path):
    log = tmp_path / "reviews" / "decisions.jsonl"
    first, second = decision(), decision("v_1", "b" * 64, "rejected")
    append(log, [first])
    append(log, [second])
    lines = log.read_text().splitlines()
    assert [json.loads(line)["frame_id"] for line in lines] == ["v_0", "v_1"]
    assert list(json.loads(lines[0])) == sorted(json.loads(lines[0]))
    assert json.loads(lines[0])["boxes"] == [{"class_name": "car", "x_min": 1, "y_min": 2, "x_max": 30, "y_max": 40}]
    assert read_log(log).decisions == [first, second]


def test_a_torn_last_line_is_skipped_and_reported_and_the_next_decision_still_lands(tmp_path):
    log = tmp_path / "decisions.jsonl"
    append(log, [decision("v_0"), decision("v_1")])
    text = log.read_bytes()
    log.write_bytes(text[: len(text) - 25])  # what a power cut mid-write leaves
    torn = read_log(log)
    assert [d.frame_id for d in torn.decisions] == ["v_0"] and torn.unreadable == [2]
    append(log, [decision("v_2")])
    again = read_log(log)
    assert [d.frame_id for d in again.decisions] == ["v_0", "v_2"] and again.unreadable == [2]


def test_a_malformed_decision_is_unreadable_not_fatal(tmp_path):
    log = tmp_path / "decisions.jsonl"
    log.write_text('{"frame_id": "v_0"}\n' + decision().line() + "[]\n"
                   + decision(verdict="rejected").line().replace('"boxes":[]', '"boxes":[{"class_name":"car"}]')
                   + decision().line().replace('"width":320', '"width":null')
                   + decision().line().replace("a" * 64, "a" * 63 + "\u00e1"))  # a damaged hash: no picture's
    read = read_log(log)
    assert len(read.decisions) == 1 and read.unreadable == [1, 3, 4, 5, 6]


def test_the_latest_decision_wins_and_the_content_hash_beats_the_frame_id():
    older = decision("v_0", "a" * 64, "rejected", "2026-01-01T00:00:00.000Z")
    newer = decision("v_0", "a" * 64, "edited", "2026-01-02T00:00:00.000Z")
    matched = match([newer, older], {"v_0": "a" * 64})
    assert matched.by_frame["v_0"] is newer
    # the frame was renamed (same bytes, new id) and another frame took its old id
    renamed = match([newer], {"w_0": "a" * 64, "v_0": "c" * 64})
    assert renamed.by_frame == {"w_0": newer} and renamed.changed == {}


def test_a_decision_never_lands_on_another_picture_of_the_same_frame_id():
    """After an fps change a frame id names another moment of the video: the decision is listed, not applied."""
    made = decision("v_0", "a" * 64, "edited", "2026-01-02T00:00:00.000Z")
    other_picture = match([made], {"v_0": "d" * 64})
    assert other_picture.by_frame == {} and other_picture.changed == {"v_0": made}
    decided_again = decision("v_0", "d" * 64, "accepted", "2026-01-03T00:00:00.000Z")
    assert match([made, decided_again], {"v_0": "d" * 64}).changed == {}
    assert match([made, decided_again], {"v_0": "a" * 64}).by_frame == {"v_0": made}  # back at fps 4: its own


def test_decisions_for_frames_that_are_gone_are_counted_not_dropped(tmp_path):
    log = tmp_path / "decisions.jsonl"
    append(log, [decision("v_0", "a" * 64), decision("gone_0", "e" * 64), decision("gone_0", "e" * 64, "rejected")])
    matched = match(read_log(log).decisions, {"v_0": "a" * 64})
    assert matched.missing_frames == 1 and list(matched.by_frame) == ["v_0"]
    assert len(read_log(log).decisions) == 3


def test_boxes_follow_a_frame_re_extracted_at_another_size():
    small = decision(boxes=(Box("car", 10, 20, 160, 120),))
    assert small.boxes_on(640, 480) == [Box("car", 20, 40, 320, 240)]
    assert decision(boxes=(Box("car", 300, 200, 400, 300),)).boxes_on(320, 240) == [Box("car", 300, 200, 320, 240)]


def test_a_decision_written_through_a_path_that_does_not_exist_yet_creates_it(tmp_path: Path):
    log = tmp_path / "new" / "decisions.jsonl"
    append(log, [decision()])
    assert len(read_log(log).decisions) == 1


def test_a_review_saved_after_a_stage_read_the_log_fails_that_stage_in_one_line(tmp_path):
    """DVC hashes reviews/ after filter ran: a decision landing meanwhile would be recorded, never applied."""
    log = tmp_path / "decisions.jsonl"
    unchanged_since(log, contents(log))  # no log yet, none now
    append(log, [decision()])
    seen = contents(log)
    unchanged_since(log, seen)
    append(log, [decision("v_1", "b" * 64)])
    with pytest.raises(FramehoundError, match=r"^[^\n]*decisions\.jsonl: a review was saved while this stage ran, "
                                              r"after it read the decisions; run `dvc repro` again to apply it$"):
        unchanged_since(log, seen)
