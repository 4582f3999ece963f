"""Human decisions over the automatic filter: a person's word is final.

Applied after the automatic rules, so changing a threshold never undoes review
work: a rejected frame stays out; an accepted or edited frame stays in with
exactly the boxes the person left (none: a confirmed background image). Boxes
of classes not in ``filter.classes`` or ``filter.new_classes`` stay in the log but not in the labels.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from framehound import tables
from framehound.boxes import boxes_by_frame
from framehound.decisions.log import Decision, match, read_log
from framehound.decisions.outcomes import Tally
from framehound.errors import FramehoundError
from framehound.filter.rules import Selection

log = logging.getLogger("framehound")
HUMAN_CONFIDENCE = 1.0  # label confidence of a box a person drew or changed


def read_decisions(path: Path, frames: pd.DataFrame) -> tuple[dict[str, Decision], dict[str, int]]:
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
    return matched.by_frame, {"decisions_for_missing_frames": matched.missing_frames,
                              "decisions_matched_by_frame_id": matched.by_id_only,
                              "unreadable_lines": len(decision_log.unreadable)}


def apply_decisions(selection: Selection, frames: pd.DataFrame, decisions_path: Path,
                    classes: list[str]) -> tuple[Selection, dict[str, Any]]:
    """The selection with human decisions applied, and the review metrics.

    A line that cannot be read stops the build (the review server only counts
    it): skipping a person's decision would silently give another dataset.
    """
    unreadable = read_log(decisions_path).unreadable
    if unreadable:
        raise FramehoundError(f"{decisions_path}: line {unreadable[0]} is not a readable decision (torn by a killed "
                              f"write, damaged or hand-edited); fix or delete it (git diff {decisions_path} shows "
                              "changes)")
    decided, unused = read_decisions(decisions_path, frames)
    proposed = boxes_by_frame(selection.proposed[selection.proposed["frame_id"].isin(decided)])
    info = frames.set_index("frame_id")
    indices = {name: index for index, name in enumerate(classes)}
    tally = Tally()
    rows = []
    for frame_id, decision in sorted(decided.items()):
        frame = info.loc[frame_id]
        boxes = decision.boxes_on(int(frame.width), int(frame.height))
        tally.add(decision.verdict, proposed.get(frame_id, []), boxes)
        rows += [{"frame_id": frame_id, "video_id": frame.video_id, "class_index": indices[b.class_name]}
                 | b.as_dict() | {"confidence": HUMAN_CONFIDENCE if b.confidence is None else b.confidence}
                 for b in boxes if b.class_name in indices]
    labels = selection.labels[~selection.labels["frame_id"].isin(decided)]
    if rows:
        labels = pd.concat([labels, pd.DataFrame(rows, columns=list(tables.LABELS.columns))], ignore_index=True)
    kept_ids = ((set(selection.frames["frame_id"]) - set(decided))
                | {f for f, d in decided.items() if d.verdict != "rejected"})
    kept = frames[frames["frame_id"].isin(kept_ids)].sort_values("frame_id")
    unlabelled = selection.unlabelled.copy()
    unlabelled.loc[unlabelled["frame_id"].isin(decided), "outcome"] = "reviewed"  # a person boxed what is there
    return replace(selection, labels=labels, frames=kept, unlabelled=unlabelled), tally.as_dict() | unused
