"""YOLO label lines: ``class cx cy w h``, normalized to the image, 6 decimals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PixelBox:
    class_index: int
    x_min: float
    y_min: float
    x_max: float
    y_max: float


def format_labels(boxes: list[PixelBox], width: int, height: int) -> str:
    """Label file text for ``boxes`` on a ``width``×``height`` image."""
    lines = []
    for box in boxes:
        cx = (box.x_min + box.x_max) / 2 / width
        cy = (box.y_min + box.y_max) / 2 / height
        w = (box.x_max - box.x_min) / width
        h = (box.y_max - box.y_min) / height
        lines.append(f"{box.class_index} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return "".join(line + "\n" for line in lines)


def parse_labels(text: str, width: int, height: int) -> list[PixelBox]:
    """Boxes in pixels from label file text (inverse of ``format_labels``)."""
    boxes = []
    for line in text.splitlines():
        if not line.strip():
            continue
        cls, cx, cy, w, h = line.split()
        cxf, cyf, wf, hf = (float(v) for v in (cx, cy, w, h))
        boxes.append(PixelBox(int(cls), (cxf - wf / 2) * width, (cyf - hf / 2) * height,
                              (cxf + wf / 2) * width, (cyf + hf / 2) * height))
    return boxes
