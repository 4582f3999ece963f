"""Match the boxes of one frame across two revisions: added, removed, moved, re-classed.

Boxes are compared by class *name*: obj.names may be renumbered between
revisions, so the same object can carry a different index. Their coordinates
are normalized to the image (pixels of a 1×1 image, as the label files hold
them): IoU does not change when both boxes are scaled by the same factor per
axis, so the matching is the same as on the image's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from framehound.boxes import Box, greedy_pairs


@dataclass
class FrameChanges:
    """Class names of the boxes that changed in one frame; ``reclassed`` holds (old, new) names."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    reclassed: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.moved or self.reclassed)


def match_boxes(old: list[Box], new: list[Box], iou_min: float, moved_iou: float) -> FrameChanges:
    """Pair boxes greedily by IoU (>= ``iou_min``), same-class pairs first.

    Same-class first because overlapping objects of different classes (a
    person on a bicycle) often overlap by more than ``iou_min``: a box that
    still has a same-class partner was not re-classed. A same-class pair below
    ``moved_iou`` is a moved box; unpaired boxes were removed or added.
    """
    changes = FrameChanges()
    free_old, free_new = set(range(len(old))), set(range(len(new)))
    for same_class in (True, False):
        def allowed(i: int, j: int, same_class: bool = same_class) -> bool:
            return i in free_old and j in free_new and (old[i].class_name == new[j].class_name) == same_class

        for i, j, overlap in greedy_pairs(old, new, iou_min, allowed):
            free_old.remove(i)
            free_new.remove(j)
            if not same_class:
                changes.reclassed.append((old[i].class_name, new[j].class_name))
            elif overlap < moved_iou:
                changes.moved.append(old[i].class_name)
    changes.removed = [old[i].class_name for i in sorted(free_old)]
    changes.added = [new[j].class_name for j in sorted(free_new)]
    return changes
