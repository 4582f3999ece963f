"""The diff itself, from what was read: images per split, boxes per class, params.

Pure functions returning JSON-ready dicts, so ``--json`` and the table show
the same numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from framehound.boxes import Box
from framehound.datasetdiff.matching import match_boxes
from framehound.split.assign import SPLITS

BOX_CHANGES = ("added", "removed", "moved", "reclassed_out", "reclassed_in")


def compare_images(old: dict[str, str], new: dict[str, str]) -> dict[str, Any]:
    """Frames added to / removed from each split, and frames that changed split (frame id -> split maps)."""
    per_split = {}
    for split in SPLITS:
        before = {f for f, s in old.items() if s == split}
        after = {f for f, s in new.items() if s == split}
        per_split[split] = {
            "before": len(before),
            "after": len(after),
            "added": sorted(after - old.keys()),
            "removed": sorted(before - new.keys()),
        }
    moved = [{"frame_id": f, "from": old[f], "to": new[f]}
             for f in sorted(old.keys() & new.keys()) if old[f] != new[f]]
    return {"images": per_split, "moved_images": moved}


def compare_boxes(old: dict[str, list[Box]], new: dict[str, list[Box]],
                  iou_min: float, moved_iou: float) -> dict[str, Any]:
    """Box changes per class name over the frames given (frame id -> boxes).

    A frame only in ``old`` lost all its boxes, one only in ``new`` gained
    them; frames in neither were unchanged.
    """
    counts: dict[str, Counter[str]] = {}
    reclassed: Counter[tuple[str, str]] = Counter()
    changed_frames = []
    for frame_id in sorted(old.keys() | new.keys()):
        changes = match_boxes(old.get(frame_id, []), new.get(frame_id, []), iou_min, moved_iou)
        if changes and frame_id in old and frame_id in new:
            changed_frames.append(frame_id)
        by_kind = {"added": changes.added, "removed": changes.removed, "moved": changes.moved,
                   "reclassed_out": [a for a, _ in changes.reclassed],
                   "reclassed_in": [b for _, b in changes.reclassed]}
        for kind, names in by_kind.items():
            for name in names:
                counts.setdefault(name, Counter())[kind] += 1
        reclassed.update(changes.reclassed)
    return {
        "boxes": {name: {kind: counts[name][kind] for kind in BOX_CHANGES} for name in sorted(counts)},
        "reclassed": [{"from": a, "to": b, "boxes": n} for (a, b), n in sorted(reclassed.items())],
        "frames_changed": changed_frames,
    }


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys (``filter.min_confidence``); lists stay whole values."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping) and value:
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def compare_params(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Changed dotted keys -> {"old": ..., "new": ...}; a side is left out where the key is absent."""
    a, b = flatten(old), flatten(new)
    changed = {}
    for key in sorted(a.keys() | b.keys()):
        # type too: YAML ``true`` == 1 in Python, but it is a change
        if key in a and key in b and type(a[key]) is type(b[key]) and a[key] == b[key]:
            continue
        changed[key] = {side: values[key] for side, values in (("old", a), ("new", b)) if key in values}
    return {"params": changed}
