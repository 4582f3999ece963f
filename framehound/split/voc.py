"""Pascal VOC export: ``voc/{split}/<frame_id>.xml`` for each image in ``images/{split}/``.

Coordinates follow the VOC devkit: 1-based, inclusive pixel indices. A box
from ``x_min`` to ``x_max`` (0-based, ``x_max`` the far edge) covers pixels
``round(x_min) .. round(x_max) - 1``, written as ``xmin = round(x_min) + 1``
and ``xmax = round(x_max)`` (halves round up); every box keeps at least one
pixel. Loaders that read VOC the devkit way (Detectron2, supervision >= 0.31.2)
get back ``x_min = xmin - 1`` and ``x_max = xmax``, within half a pixel of the input.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd

from framehound.atomic import atomic_path
from framehound.split.assign import SPLITS, Walk


def _pixel(value: float) -> int:
    """Round half up, so ties do not depend on the evenness of the pixel (as ``round`` does)."""
    return math.floor(value + 0.5)


def _add(parent: ET.Element, tag: str, text: object) -> None:
    ET.SubElement(parent, tag).text = str(text)


def voc_xml(frame: Any, boxes: pd.DataFrame, classes: list[str], split: str) -> str:
    """One annotation file; ``truncated`` is 1 when the written box reaches the image border."""
    width, height = int(frame.width), int(frame.height)
    annotation = ET.Element("annotation")
    _add(annotation, "folder", f"images/{split}")
    _add(annotation, "filename", f"{frame.frame_id}.jpg")
    size = ET.SubElement(annotation, "size")
    for tag, value in (("width", width), ("height", height), ("depth", 3)):
        _add(size, tag, value)
    _add(annotation, "segmented", 0)
    for box in boxes.itertuples(index=False):
        xmin, ymin = min(_pixel(box.x_min) + 1, width), min(_pixel(box.y_min) + 1, height)
        xmax, ymax = max(_pixel(box.x_max), xmin), max(_pixel(box.y_max), ymin)
        obj = ET.SubElement(annotation, "object")
        _add(obj, "name", classes[int(box.class_index)])
        _add(obj, "pose", "Unspecified")
        _add(obj, "truncated", int(xmin == 1 or ymin == 1 or xmax == width or ymax == height))
        _add(obj, "difficult", 0)
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
            _add(bndbox, tag, value)
    ET.indent(annotation)
    return ET.tostring(annotation, encoding="unicode") + "\n"


def write_voc(root: Path, walk: Walk, classes: list[str]) -> None:
    """Replace ``root/voc`` with one XML per image; a frame without boxes gets one with no
    ``<object>``, so it reads as a checked negative rather than a missing annotation."""
    with atomic_path(root / "voc", directory=True) as staging:
        for split in SPLITS:
            (staging / split).mkdir()
            for frame, boxes in walk[split]:
                (staging / split / f"{frame.frame_id}.xml").write_text(
                    voc_xml(frame, boxes, classes, split), encoding="utf-8")
