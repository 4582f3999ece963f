"""What people did to the proposed boxes: accepted, edited, deleted, or added their own.

A proposed box and a person's box are the same object when they overlap with
IoU >= 0.5 (matched greedily, best overlap first), the usual bar for a true
positive in detection metrics; a matched box of the same class is *kept*. So
kept / proposed over the reviewed frames estimates the precision of the
automatic labels. A rejected frame keeps none of its proposed boxes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from framehound.boxes import Box, greedy_pairs

SAME_OBJECT_IOU = 0.5
UNCHANGED_PX = 1.0
OUTCOMES = ("proposed", "kept", "accepted", "edited", "deleted", "added")


def unchanged(a: Box, b: Box) -> bool:
    """Same class, every edge within a pixel: what the detector said, untouched."""
    return a.class_name == b.class_name and all(
        abs(getattr(a, k) - getattr(b, k)) <= UNCHANGED_PX for k in ("x_min", "y_min", "x_max", "y_max"))


def box_outcomes(proposed: list[Box], decided: list[Box]) -> Counter[tuple[str, str]]:
    """(class, outcome) counts: proposed boxes under their class, added ones under theirs."""
    partner = {i: j for i, j, _ in greedy_pairs(proposed, decided, SAME_OBJECT_IOU)}
    taken = set(partner.values())
    counts: Counter[tuple[str, str]] = Counter()
    for i, box in enumerate(proposed):
        counts[box.class_name, "proposed"] += 1
        if i not in partner:
            counts[box.class_name, "deleted"] += 1
            continue
        mate = decided[partner[i]]
        counts[box.class_name, "accepted" if unchanged(box, mate) else "edited"] += 1
        counts[box.class_name, "kept"] += mate.class_name == box.class_name
    for j, box in enumerate(decided):
        counts[box.class_name, "added"] += j not in taken
    return counts


def _share(kept: int, proposed: int) -> float | None:
    return round(kept / proposed, 4) if proposed else None


class Tally:
    """Frame verdicts and box outcomes over the reviewed frames."""

    def __init__(self) -> None:
        self.verdicts: Counter[str] = Counter()
        self.boxes: Counter[tuple[str, str]] = Counter()

    def add(self, verdict: str, proposed: list[Box], decided: list[Box]) -> None:
        """One reviewed frame: its verdict, the boxes proposed and the boxes the person left."""
        self.verdicts[verdict] += 1
        self.boxes.update(box_outcomes(proposed, decided))

    def total(self, outcome: str) -> int:
        return sum(n for (_, name), n in self.boxes.items() if name == outcome)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counts; ``precision`` is kept / proposed (null with nothing proposed)."""
        classes = sorted({name for name, _ in self.boxes})
        per_class = {c: {o: self.boxes[c, o] for o in OUTCOMES} for c in classes}
        for counts in per_class.values():
            counts["precision"] = _share(counts["kept"], counts["proposed"])
        return {
            "frames_reviewed": sum(self.verdicts.values()),
            "frames": {v: self.verdicts[v] for v in ("accepted", "edited", "rejected")},
            "boxes": per_class,
            "precision": _share(self.total("kept"), self.total("proposed")),
        }
