"""Which frames a person sees first, the views over them, and how far the review is.

Frames filter holds out of the dataset until a person decides
(``filter.incomplete: review``: they show an object without a label) come
first: each decision puts a whole image back. Then the frames whose decision
changes the dataset most: their *impact* is the share of the picture covered
by objects the labels miss (unlabelled objects, which the dataset masks, and
dimmed boxes): a person filling the frame with no box at all comes before a
crowd of distant figures. Ties go by uncertainty sampling: a frame's *margin*
is the distance of its least certain box from ``filter.min_confidence``, the
boxes the threshold decides by a hair. Frames without any box of the
requested classes come last.
"""

from __future__ import annotations

import math
from typing import Any

from framehound.decisions.outcomes import Tally
from framehound.review.project import Frame, ReviewProject

STATUSES = ("all", "unreviewed", "held", "masked", "changed", "accepted", "edited", "rejected")
IMPACT_STEP = 0.05  # impacts are compared in steps of 5% of the picture, then by margin


def margin(frame: Frame, threshold: float) -> float:
    """Distance of the frame's least certain box from the threshold (inf without boxes)."""
    return min((abs(b.confidence - threshold) for b in frame.proposed + frame.dimmed + frame.unlabelled
                if b.confidence is not None),
               default=math.inf)


def impact(frame: Frame) -> float:
    """The share of the picture covered by objects without a label (at most 1)."""
    area = sum((b.x_max - b.x_min) * (b.y_max - b.y_min) for b in frame.unlabelled + frame.dimmed)
    return min(area / (frame.width * frame.height), 1.0)


def _status(project: ReviewProject, frame_id: str) -> set[str]:
    decision = project.decisions.get(frame_id)
    if decision is not None:
        return {"all", decision.verdict}
    frame = project.frames[frame_id]
    return {"all", "unreviewed"} | ({"held"} if frame_id in project.held else set()) | (
        {"changed"} if frame_id in project.changed else set()) | ({"masked"} if frame.unlabelled else set())


def ordered(project: ReviewProject, status: str = "all", class_name: str = "", video: str = "") -> list[str]:
    """Frame ids of a view: held frames first, then by impact, then most ambiguous (ties by frame id)."""
    chosen = []
    for frame in project.frames.values():
        if status not in _status(project, frame.frame_id) or (video and frame.video_id != video):
            continue
        if class_name and class_name not in {b.class_name for b in frame.proposed + frame.dimmed + frame.unlabelled
                                             + project.current_boxes(frame.frame_id)}:
            continue
        chosen.append(frame)
    waiting = project.held - set(project.decisions)
    chosen.sort(key=lambda f: (f.frame_id not in waiting,
                               0 if f.frame_id in project.decisions else -round(impact(f) / IMPACT_STEP),
                               margin(f, project.min_confidence), f.frame_id))
    return [f.frame_id for f in chosen]


def page_of(project: ReviewProject, ids: list[str], page: int, per_page: int) -> list[str]:
    """One page of ``ids``, grouped by video: videos in order of their most ambiguous frame on the page."""
    chunk = ids[page * per_page:(page + 1) * per_page]
    first_seen = {}
    for position, frame_id in enumerate(chunk):
        first_seen.setdefault(project.frames[frame_id].video_id, position)
    return sorted(chunk, key=lambda f: first_seen[project.frames[f].video_id])


def progress(project: ReviewProject) -> dict[str, Any]:
    """Frames reviewed of all, verdict counts, and the share of proposed boxes people kept."""
    tally = Tally()
    for frame_id, decision in project.decisions.items():
        tally.add(decision.verdict, project.frames[frame_id].proposed, project.current_boxes(frame_id))
    summary = tally.as_dict()
    return {"reviewed": summary["frames_reviewed"], "total": len(project.frames), "frames": summary["frames"],
            "proposed": tally.total("proposed"), "kept": tally.total("kept"), "kept_share": summary["precision"],
            "held": len(project.held - set(project.decisions)), "changed": len(project.changed)}
