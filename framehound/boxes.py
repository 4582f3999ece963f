"""The box: one labeled, axis-aligned box in pixels, and every conversion of one.

``Box`` is framehound's only box type. Its corners ``x_min, y_min, x_max,
y_max`` are pixels of the image (``x_max``/``y_max`` the far edges).
Coordinates normalized to the image are pixels of a 1×1 image: the dataset
diff reads label files that way.

Tables are the columnar form of ``Box`` rows: detections.parquet and the
labels tables (``framehound.tables``) hold class_name, x_min, y_min, x_max,
y_max and confidence as columns (``Box.from_row`` reads one row), and
detect's ``BoxColumns`` (``framehound.detect.postprocess``) holds one frame's
boxes as parallel numpy arrays, for vectorized decoding and NMS.

The conversions live here, once: corners <-> normalized center (``center``,
``from_center``), corners <-> top-left and size (``xywh``, ``from_xywh``),
and YOLO label lines (``format_labels``, ``parse_labels``): ``class cx cy w
h``, the class index and the box's center and size as fractions of the
image, 6 decimals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

_CORNERS = ("x_min", "y_min", "x_max", "y_max")


@dataclass(frozen=True)
class Box:
    """A box in pixels. ``confidence`` is the detector's while the box is unchanged, else None."""

    class_name: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float
    confidence: float | None = None

    @classmethod
    def parse(cls, raw: Any) -> Box:
        """A box from JSON; ValueError names what is wrong."""
        if not isinstance(raw, dict) or not isinstance(raw.get("class_name"), str) or not raw["class_name"]:
            raise ValueError(f"box needs a class_name: {raw!r}")
        coords = [raw.get(k) for k in _CORNERS]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in coords):
            raise ValueError(f"box needs finite x_min, y_min, x_max, y_max: {raw!r}")
        if not (coords[0] < coords[2] and coords[1] < coords[3]):
            raise ValueError(f"box is empty: {raw!r}")
        confidence = raw.get("confidence")
        if confidence is not None and (not isinstance(confidence, int | float) or isinstance(confidence, bool)
                                       or not 0 <= confidence <= 1):
            raise ValueError(f"box confidence must be a number from 0 to 1: {raw!r}")
        return cls(raw["class_name"], *(float(v) for v in coords),
                   None if confidence is None else float(confidence))

    @classmethod
    def from_row(cls, row: Any) -> Box:
        """A box from a table row (``itertuples`` of detections or labels)."""
        return cls(row.class_name, float(row.x_min), float(row.y_min), float(row.x_max), float(row.y_max),
                   float(row.confidence))

    @classmethod
    def from_center(cls, class_name: str, cx: float, cy: float, w: float, h: float, width: float,
                    height: float) -> Box:
        """A box from its center and size as fractions of a ``width``×``height`` image (inverse of ``center``)."""
        return cls(class_name, (cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width,
                   (cy + h / 2) * height)

    @classmethod
    def from_xywh(cls, class_name: str, x: float, y: float, w: float, h: float) -> Box:
        """A box from its top-left corner and size (inverse of ``xywh``)."""
        return cls(class_name, x, y, x + w, y + h)

    def center(self, width: float, height: float) -> tuple[float, float, float, float]:
        """``(cx, cy, w, h)``: center and size as fractions of a ``width``×``height`` image."""
        return ((self.x_min + self.x_max) / 2 / width, (self.y_min + self.y_max) / 2 / height,
                (self.x_max - self.x_min) / width, (self.y_max - self.y_min) / height)

    def xywh(self) -> tuple[float, float, float, float]:
        """``(x, y, w, h)``: top-left corner and size, in pixels."""
        return self.x_min, self.y_min, self.x_max - self.x_min, self.y_max - self.y_min

    def clipped(self, width: int, height: int) -> Box | None:
        """The box cut to the frame, coordinates to 0.1 px; None when nothing is left."""
        x0, x1 = (round(min(max(v, 0.0), width), 1) for v in (self.x_min, self.x_max))
        y0, y1 = (round(min(max(v, 0.0), height), 1) for v in (self.y_min, self.y_max))
        if x0 >= x1 or y0 >= y1:
            return None
        return Box(self.class_name, x0, y0, x1, y1, self.confidence)

    def scaled(self, sx: float, sy: float) -> Box:
        return Box(self.class_name, self.x_min * sx, self.y_min * sy, self.x_max * sx, self.y_max * sy,
                   self.confidence)

    def as_dict(self) -> dict[str, Any]:
        raw = asdict(self)
        return raw if self.confidence is not None else {k: v for k, v in raw.items() if k != "confidence"}


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when they do not overlap).

    Scaling both boxes by the same factor per axis leaves it unchanged, so
    boxes normalized to one image compare as their pixels would.
    """
    inter = _intersection(a, b)
    if inter == 0.0:
        return 0.0
    union = (a.x_max - a.x_min) * (a.y_max - a.y_min) + (b.x_max - b.x_min) * (b.y_max - b.y_min) - inter
    return inter / union


def inside_share(a: Box, b: Box) -> float:
    """Share of ``a``'s area that lies inside ``b`` (0 for an empty ``a``)."""
    area = (a.x_max - a.x_min) * (a.y_max - a.y_min)
    return _intersection(a, b) / area if area > 0 else 0.0


def _intersection(a: Box, b: Box) -> float:
    """Area the two boxes share (0 when they do not overlap)."""
    width = min(a.x_max, b.x_max) - max(a.x_min, b.x_min)
    height = min(a.y_max, b.y_max) - max(a.y_min, b.y_min)
    return width * height if width > 0 and height > 0 else 0.0


def greedy_pairs(a: Sequence[Box], b: Sequence[Box], min_iou: float,
                 allowed: Callable[[int, int], bool] = lambda i, j: True) -> list[tuple[int, int, float]]:
    """``(i, j, iou)`` pairs of ``a[i]`` and ``b[j]``, best overlap first (ties by index), IoU >= ``min_iou``.

    Greedy, as detection metrics match: each box is in at most one pair, and
    only pairs that ``allowed`` admits are considered.
    """
    candidates = sorted((-iou(a[i], b[j]), i, j) for i in range(len(a)) for j in range(len(b)) if allowed(i, j))
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for negative_iou, i, j in candidates:
        if -negative_iou < min_iou:
            break
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j, -negative_iou))
    return pairs


def boxes_by_frame(rows: Any) -> dict[str, list[Box]]:
    """A table of boxes (a pandas frame with DETECTIONS or LABELS-like columns) as boxes per frame, best first."""
    ordered = rows.sort_values(["frame_id", "confidence"], ascending=[True, False], kind="mergesort")
    return {frame_id: [Box.from_row(r) for r in group.itertuples(index=False)]
            for frame_id, group in ordered.groupby("frame_id", sort=True)}


class UnknownClassIndex(ValueError):
    """A label line's class index that is not one of the classes."""

    def __init__(self, index: int, classes: int) -> None:
        super().__init__(f"class {index} is not in the {classes} classes")
        self.index = index
        self.classes = classes


def format_labels(boxes: Sequence[Box], classes: Sequence[str], width: int, height: int) -> str:
    """YOLO label file text for ``boxes`` on a ``width``×``height`` image, one line a box, in order.

    A box's class index is the position of its class name in ``classes``.
    """
    index = {name: i for i, name in enumerate(classes)}
    lines = []
    for box in boxes:
        if box.class_name not in index:
            raise ValueError(f"class {box.class_name!r} is not one of {', '.join(classes)}")
        cx, cy, w, h = box.center(width, height)
        lines.append(f"{index[box.class_name]} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return "".join(line + "\n" for line in lines)


def parse_labels(text: str, classes: Sequence[str], width: int, height: int) -> list[Box]:
    """Boxes in pixels of a ``width``×``height`` image from YOLO label file text (inverse of ``format_labels``).

    ValueError when a line is not ``class cx cy w h``, then (``UnknownClassIndex``)
    when a class index is not a position in ``classes``.
    """
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        cls, cx, cy, w, h = line.split()
        rows.append((int(cls), *(float(v) for v in (cx, cy, w, h))))
    for index, *_ in rows:
        if not 0 <= index < len(classes):
            raise UnknownClassIndex(index, len(classes))
    return [Box.from_center(classes[index], cx, cy, w, h, width, height) for index, cx, cy, w, h in rows]
