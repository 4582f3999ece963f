"""Read a ground-truth file: COCO JSON of hand-checked boxes, matched to frames by image file name.

An image's ``file_name`` stem is the frame id (``<video_id>_<t_ms>``), as in
the dataset, the COCO export and the review exports, so ground truth drawn in
any tool on those images matches the frames of any later run. Boxes with
``iscrowd`` or ``ignore`` set mark what no one can box reliably (a crowd, a
ten-pixel figure): a label there is no error and no label there is no miss.

Every figure of ``metrics/quality.json`` rests on this file, so what cannot
be read exactly is refused in one line naming the image, annotation or
category: ids used twice (they would move or double boxes), sizes that are
no whole pixels or disagree with the image file beside the JSON, boxes
outside their image, ``iscrowd``/``ignore`` other than 0 or 1 (``"0"`` is
true in Python), backslashed paths (their stem matches no frame), and
anything but a regular file (``/dev/zero`` never ends).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
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
    pictures: dict[str, Path] = field(default_factory=dict)  # where each image's picture would be (may not exist)

    def boxes_on(self, frame_id: str, width: int, height: int) -> tuple[list[Box], list[Box]]:
        """The frame's required and ignored boxes in pixels of a ``width``×``height`` frame."""
        gt_width, gt_height = self.sizes[frame_id]
        sx, sy = width / gt_width, height / gt_height
        return ([b.scaled(sx, sy) for b in self.required[frame_id]],
                [b.scaled(sx, sy) for b in self.ignored[frame_id]])


MAX_BYTES = 512 * 2**20  # a COCO file of boxes is megabytes; more is the wrong file
BOX_SLACK = 1.0  # pixels a box may pass the image's edge (tools round outward)
HEADER_BYTES = 1 << 18  # where an image's size must be found: check reads every ground-truth image's header


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _pixels(value: Any) -> bool:
    """A whole, positive number of pixels (``640`` or ``640.0``, never ``0.5`` or ``"640"``)."""
    return _number(value) and value >= 1 and float(value).is_integer()


def read_groundtruth(path: Path) -> GroundTruth:
    """The ground truth in ``path``; FramehoundError names the file and the first problem."""
    if not path.exists():
        raise FramehoundError(f"{path}: ground truth not found")
    if not path.is_file():  # /dev/zero, a fifo or a folder would never finish reading
        raise FramehoundError(f"{path}: ground truth must be a regular file (a COCO JSON file)")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise FramehoundError(f"{path}: over {MAX_BYTES >> 20} MiB, not a ground-truth file")
        raw = json.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FramehoundError(f"{path}: not a readable COCO JSON file ({exc})".splitlines()[0]) from None
    try:
        return _parse(raw, path.parent)
    except (KeyError, TypeError, ValueError) as exc:
        raise FramehoundError(f"{path}: not COCO ground truth: {exc}") from None
    except _Invalid as exc:
        raise FramehoundError(f"{path}: {exc}") from None


class _Invalid(Exception):
    """A problem named precisely (the image, annotation or category), reported as it is."""


def _unique(items: list[dict], clash: Callable[[dict, dict], str], numbered: bool = False) -> dict[Any, dict]:
    """``items`` by id; _Invalid saying ``clash(item, earlier)`` when two share one. ``numbered``: an item
    without an id is known by its position (``#3``), as COCO readers tolerate annotations without ids."""
    by_id: dict[Any, dict] = {}
    for number, item in enumerate(items):
        key = item.get("id", f"#{number}") if numbered else item["id"]
        if isinstance(key, bool) or not isinstance(key, int | str):
            raise ValueError(f"id {key!r} is neither a number nor a string")
        if key in by_id:
            raise _Invalid(clash(item, by_id[key]))
        by_id[key] = item
    return by_id


def _flag(note: dict, key: str, name: str) -> bool:
    value = note.get(key, 0)
    if value not in (0, 1) or not isinstance(value, int):  # True and False are 0 and 1
        raise _Invalid(f"{name}: {key} must be 0 or 1, got {value!r}")
    return bool(value)


def _parse(raw: Any, folder: Path) -> GroundTruth:
    if not isinstance(raw, dict):
        raise ValueError("the top level must be an object with images, annotations and categories")
    by_id = _unique(raw["categories"],
                    lambda c, was: f"category {c['name']!r}: id {c['id']!r} is also the id of {was['name']!r}")
    categories = {key: str(c["name"]) for key, c in by_id.items()}
    named: dict[str, Any] = {}
    for key, name in categories.items():
        if name in named:
            raise _Invalid(f"category {name!r} (id {key!r}): two categories have that name")
        named[name] = key
    frames: dict[Any, str] = {}
    sizes: dict[str, tuple[int, int]] = {}
    pictures: dict[str, Path] = {}
    images = _unique(raw["images"], lambda i, was: (
        f"image {i['file_name']!r}: id {i['id']!r} is also the id of {was['file_name']!r}"))
    for key, image in images.items():
        name = f"image {image['file_name']!r} (id {key!r})"
        if "\\" in str(image["file_name"]):
            raise _Invalid(f"{name}: file_name has backslashes; COCO paths use / (images/<frame_id>.jpg)")
        frame_id = PurePosixPath(str(image["file_name"])).stem
        if not (_pixels(image["width"]) and _pixels(image["height"])):
            raise _Invalid(f"{name}: width and height must be whole positive pixels, got "
                           f"{image['width']!r}×{image['height']!r}")
        if frame_id in sizes:
            raise _Invalid(f"{name}: another image is frame {frame_id!r} too")
        size = (int(image["width"]), int(image["height"]))
        picture = folder / str(image["file_name"])
        actual = image_size(picture)
        if actual is not None and actual != size:
            raise _Invalid(f"{name}: says {size[0]}×{size[1]} but the file is {actual[0]}×{actual[1]}")
        frames[key] = frame_id
        sizes[frame_id] = size
        pictures[frame_id] = picture
    required: dict[str, list[Box]] = {f: [] for f in sizes}
    ignored: dict[str, list[Box]] = {f: [] for f in sizes}
    files = {key: str(image["file_name"]) for key, image in images.items()}
    notes = _unique(raw["annotations"], lambda a, was: (
        f"annotation {a['id']} (image {files.get(a['image_id'], '?')!r}): id {a['id']!r} appears twice"),
        numbered=True)
    for key, note in notes.items():
        if note["image_id"] not in frames:
            raise _Invalid(f"annotation {key}: unknown image_id {note['image_id']!r}")
        frame_id = frames[note["image_id"]]
        where = f"annotation {key} (image {files[note['image_id']]!r})"
        if note["category_id"] not in categories:
            raise _Invalid(f"{where}: unknown category_id {note['category_id']!r}")
        x, y, w, h = note["bbox"]
        if not all(_number(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
            raise _Invalid(f"{where}: empty or invalid bbox {note['bbox']!r}")
        width, height = sizes[frame_id]
        if x < -BOX_SLACK or y < -BOX_SLACK or x + w > width + BOX_SLACK or y + h > height + BOX_SLACK:
            raise _Invalid(f"{where}: bbox {note['bbox']!r} lies outside the {width}×{height} image")
        crowd = _flag(note, "iscrowd", where) | _flag(note, "ignore", where)
        box = Box.from_xywh(categories[note["category_id"]], float(x), float(y), float(w), float(h))
        (ignored if crowd else required)[frame_id].append(box)
    return GroundTruth(sizes, required, ignored, sorted(named), pictures)


def class_mismatches(truth: GroundTruth, classes: list[str]) -> list[str]:
    """Categories that differ from a dataset class only by case: a slip that would drop the class silently."""
    return [f"category {name!r} is not the class {wanted!r} (names are case-sensitive): its boxes are not scored"
            for name in truth.classes for wanted in classes
            if name != wanted and name.casefold() == wanted.casefold() and wanted not in truth.classes]


def image_size(path: Path) -> tuple[int, int] | None:
    """Width and height read from a JPEG's or PNG's header; None when there is no such file (or no header
    in its first HEADER_BYTES: a huge EXIF block, another format)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(HEADER_BYTES)
    except OSError:
        return None
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    at = 2
    while data[:2] == b"\xff\xd8" and at + 9 <= len(data) and data[at] == 0xFF:
        marker, length = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        if marker in SOF_MARKERS:
            return int.from_bytes(data[at + 7:at + 9], "big"), int.from_bytes(data[at + 5:at + 7], "big")
        at += 2 + length
    return None


SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
