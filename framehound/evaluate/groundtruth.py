"""Read a ground-truth file: COCO JSON of hand-checked boxes, matched to frames by image file name.

An image's ``file_name`` stem is the frame id (``<video_id>_<t_ms>``), as in
the dataset, the COCO export and the review exports, so ground truth drawn in
any tool on those images matches the frames of any later run. Boxes with
``iscrowd`` or ``ignore`` set mark what no one can box reliably (a crowd, a
ten-pixel figure): a label there is no error and no label there is no miss.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from framehound.boxes import Box
from framehound.errors import FramehoundError


@dataclass(frozen=True)
class GroundTruth:
    """Per frame: its size in the ground truth, the boxes a dataset must have, the regions that count for nothing."""

    sizes: dict[str, tuple[int, int]]
    required: dict[str, list[Box]]
    ignored: dict[str, list[Box]]
    classes: list[str]

    def boxes_on(self, frame_id: str, width: int, height: int) -> tuple[list[Box], list[Box]]:
        """The frame's required and ignored boxes in pixels of a ``width``×``height`` frame."""
        gt_width, gt_height = self.sizes[frame_id]
        sx, sy = width / gt_width, height / gt_height
        return ([b.scaled(sx, sy) for b in self.required[frame_id]],
                [b.scaled(sx, sy) for b in self.ignored[frame_id]])


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def read_groundtruth(path: Path) -> GroundTruth:
    """The ground truth in ``path``; FramehoundError names the file and the first problem."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FramehoundError(f"{path}: ground truth not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FramehoundError(f"{path}: not a readable COCO JSON file ({exc})".splitlines()[0]) from None
    try:
        return _parse(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise FramehoundError(f"{path}: not COCO ground truth: {exc}") from None


def _parse(raw: Any) -> GroundTruth:
    if not isinstance(raw, dict):
        raise ValueError("the top level must be an object with images, annotations and categories")
    categories = {c["id"]: str(c["name"]) for c in raw["categories"]}
    frames: dict[int, str] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for image in raw["images"]:
        frame_id = PurePosixPath(str(image["file_name"])).stem
        if not (_number(image["width"]) and _number(image["height"]) and image["width"] > 0 and image["height"] > 0):
            raise ValueError(f"image {image['file_name']!r} needs a positive width and height")
        if frame_id in sizes:
            raise ValueError(f"two images are frame {frame_id!r}")
        frames[image["id"]] = frame_id
        sizes[frame_id] = (int(image["width"]), int(image["height"]))
    required: dict[str, list[Box]] = {f: [] for f in sizes}
    ignored: dict[str, list[Box]] = {f: [] for f in sizes}
    for number, note in enumerate(raw["annotations"]):
        x, y, w, h = note["bbox"]
        if not all(_number(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
            raise ValueError(f"annotation {note.get('id', number)} has an empty or invalid bbox {note['bbox']!r}")
        if note["image_id"] not in frames or note["category_id"] not in categories:
            raise ValueError(f"annotation {note.get('id', number)} names an unknown image or category")
        box = Box.from_xywh(categories[note["category_id"]], float(x), float(y), float(w), float(h))
        frame_id = frames[note["image_id"]]
        (ignored if note.get("iscrowd") or note.get("ignore") else required)[frame_id].append(box)
    return GroundTruth(sizes, required, ignored, sorted(set(categories.values())))
