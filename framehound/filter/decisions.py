"""Human decisions over the automatic filter: a person's word is final, and never makes an image incomplete.

Applied after the automatic rules, so changing a threshold never undoes review
work: a rejected frame stays out; an accepted or edited frame stays in with
exactly the boxes the person left. A decision says what the person boxed, not
that everything else is background: an object the detector saw (completeness's
unlabelled objects, found again against the person's boxes) that the person
neither boxed nor dismissed ("not an object") stays masked. Classes added
after a frame was reviewed were never asked about: the automatic labels and
the completeness policy apply to them there. A decision made on another
picture (the frame id now names other bytes) is never applied, only reported.
Boxes of classes not in ``filter.classes`` or ``filter.new_classes`` stay in
the log but not in the labels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from framehound import tables
from framehound.boxes import Box, boxes_by_frame, iou
from framehound.decisions.log import Decision, match, read_log
from framehound.decisions.outcomes import SAME_OBJECT_IOU, Tally
from framehound.errors import FramehoundError
from framehound.filter.completeness import OUTCOMES, UNLABELLED_COLUMNS, too_grey, unlabelled
from framehound.filter.rules import Selection
from framehound.params import FilterParams

log = logging.getLogger("framehound")
HUMAN_CONFIDENCE = 1.0  # label confidence of a box a person drew or changed
SHOWN_IDS = 5           # frame ids named in a warning


@dataclass
class Decided:
    """The decisions that apply to the current frames, and those that cannot."""

    by_frame: dict[str, Decision]
    changed: dict[str, Decision]  # frame id -> its latest decision, made on another picture: not applied
    counts: dict[str, int]


def read_decisions(path: Path, frames: pd.DataFrame) -> Decided:
    """The decision of each current frame, and counts of what could not be used (for metrics)."""
    decision_log = read_log(path)
    if decision_log.unreadable:
        log.warning("%s: skipped %d unreadable line(s) (line %s): a torn write or a hand edit", path,
                    len(decision_log.unreadable), ", ".join(map(str, decision_log.unreadable[:5])))
    hashes = dict(zip(frames["frame_id"], frames["sha256"], strict=True))
    matched = match(decision_log.decisions, hashes)
    if matched.missing_frames:
        log.warning("%s: %d reviewed frame(s) are not in this run; their decisions are kept",
                    path, matched.missing_frames)
    return Decided(matched.by_frame, matched.changed,
                   {"decisions_for_missing_frames": matched.missing_frames,
                    "decisions_on_changed_pictures": len(matched.changed),
                    "unreadable_lines": len(decision_log.unreadable)})


def changed_note(changed: dict[str, Decision]) -> str:
    """Words for decisions not applied because their frame now shows another picture ('' when none)."""
    if not changed:
        return ""
    ids = sorted(changed)
    more = f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
    return (f"{len(ids)} decision(s) not applied: made on another picture of the frame "
            f"({', '.join(ids[:SHOWN_IDS])}{more}; decide again in framehound review)")


def asked(decision: Decision, classes: list[str]) -> set[str]:
    """The classes the person was asked to box (a line without them: all of today's)."""
    return set(classes) if decision.classes is None else set(decision.classes)


def dismissed(box: Box, dismissals: list[Box]) -> bool:
    """Did the person say ``box`` is not an object (a dismissal of its class on the same object)?"""
    return any(d.class_name == box.class_name and iou(d, box) >= SAME_OBJECT_IOU for d in dismissals)


def _person_rows(frame_id: str, frame: Any, boxes: list[Box], indices: dict[str, int]) -> list[dict[str, Any]]:
    return [{"frame_id": frame_id, "video_id": frame.video_id, "class_index": indices[b.class_name]}
            | b.as_dict() | {"confidence": HUMAN_CONFIDENCE if b.confidence is None else b.confidence}
            for b in boxes if b.class_name in indices]


def _outcome(row: Any, decision: Decision, frame: Any, classes: list[str], policy: str) -> str:
    """What happens to an unlabelled object of a reviewed frame."""
    if row.class_name not in asked(decision, classes):
        return OUTCOMES[policy]  # a class added since: nobody looked for it, the policy decides
    if dismissed(Box.from_row(row), decision.dismissed_on(int(frame.width), int(frame.height))):
        return "dismissed"
    return "kept" if policy == "keep" else "masked"  # seen but not boxed: masked, never taught as background


def apply_decisions(selection: Selection, frames: pd.DataFrame, decisions_path: Path,
                    params: FilterParams) -> tuple[Selection, dict[str, Any], str]:
    """The selection with human decisions applied, the review metrics, and a note on decisions not applied.

    A line that cannot be read stops the build (the review server only counts
    it): skipping a person's decision would silently give another dataset.
    """
    unreadable = read_log(decisions_path).unreadable
    if unreadable:
        raise FramehoundError(f"{decisions_path}: line {unreadable[0]} is not a readable decision (torn by a killed "
                              f"write, damaged or hand-edited); fix or delete it (git diff {decisions_path} shows "
                              "changes)")
    found = read_decisions(decisions_path, frames)
    decided, classes = found.by_frame, params.dataset_classes
    if found.changed:
        log.warning("%s: %s", decisions_path, changed_note(found.changed))
    proposed = boxes_by_frame(selection.proposed[selection.proposed["frame_id"].isin(decided)])
    info = frames.set_index("frame_id")
    indices = {name: index for index, name in enumerate(classes)}
    accepted = {f for f, d in decided.items() if d.verdict != "rejected"}
    tally = Tally()
    rows = []
    later = selection.proposed.iloc[0:0]
    for frame_id, decision in sorted(decided.items()):
        frame = info.loc[frame_id]
        boxes = decision.boxes_on(int(frame.width), int(frame.height))
        tally.add(decision.verdict, proposed.get(frame_id, []), boxes)
        rows += _person_rows(frame_id, frame, boxes, indices)
        new = set(classes) - asked(decision, classes)
        if new and frame_id in accepted:  # the automatic labels of classes added since the review
            of_frame = selection.proposed[selection.proposed["frame_id"] == frame_id]
            later = pd.concat([later, of_frame[of_frame["class_name"].isin(new)]])
    labels = pd.concat([selection.labels[~selection.labels["frame_id"].isin(decided)],
                        pd.DataFrame(rows, columns=list(tables.LABELS.columns)),
                        later[list(tables.LABELS.columns)]], ignore_index=True)
    found_again = unlabelled(selection.removed, labels, frames, params.min_confidence, params.incomplete_confidence,
                             labelled=set(labels["frame_id"]) | accepted)
    found_again = found_again[found_again["frame_id"].isin(accepted)].reset_index(drop=True)
    found_again["outcome"] = [_outcome(r, decided[r.frame_id], info.loc[r.frame_id], classes, params.incomplete)
                              for r in found_again.itertuples(index=False)]
    greyed = too_grey(found_again[found_again["outcome"] == "masked"], labels, frames, params.max_grey)
    found_again.loc[found_again["frame_id"].isin(greyed), "outcome"] = OUTCOMES["drop"]
    left_out = set(found_again.loc[found_again["outcome"].isin(["held", "dropped"]), "frame_id"])
    labels = labels[~labels["frame_id"].isin(left_out)].reset_index(drop=True)
    kept_ids = (set(selection.frames["frame_id"]) - set(decided)) | (accepted - left_out)
    kept = frames[frames["frame_id"].isin(kept_ids)].sort_values("frame_id")
    missing = pd.concat([selection.unlabelled[~selection.unlabelled["frame_id"].isin(decided)],
                         found_again[list(UNLABELLED_COLUMNS)]], ignore_index=True)
    counts = found.counts | {"reviewed_before_classes_added": sum(
        1 for f in accepted if set(classes) - asked(decided[f], classes))}
    return (replace(selection, labels=labels, frames=kept, unlabelled=missing), tally.as_dict() | counts,
            changed_note(found.changed))
