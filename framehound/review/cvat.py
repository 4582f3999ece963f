"""CVAT: "CVAT for images 1.1" XML out with the current boxes, and its export back in as decisions.

Images are named by a template (default ``{frame_id}.jpg``, the name to
upload the frame under) and matched back by file stem. The unlabelled
objects the dataset would mask are exported as ``masked`` boxes, so the team
sees them. On import every image of the file becomes a decision: its boxes (a
rotated one becomes its enclosing box, with a warning; ``masked`` boxes stay
masked), or a rejection when it carries the ``reject`` tag. So export (and
import) the frames a team actually reviews.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from framehound.boxes import Box
from framehound.decisions.log import Decision
from framehound.errors import FramehoundError
from framehound.review.labelstudio import rotated_corners

if TYPE_CHECKING:  # the project loads pandas: not at import, so `framehound --help` starts fast
    from framehound.review.project import ReviewProject

REJECT, MASKED = "reject", "masked"
DEFAULT_IMAGE_NAME = "{frame_id}.jpg"


def _px(value: float) -> str:
    return f"{value:.2f}"


def export_xml(project: ReviewProject, frame_ids: list[str], images: Path,
               name_template: str = DEFAULT_IMAGE_NAME) -> str:
    """The annotation file for ``frame_ids``: labels are the dataset's classes plus the ``reject`` tag."""
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    task = ET.SubElement(ET.SubElement(root, "meta"), "task")
    ET.SubElement(task, "name").text = "framehound review"
    ET.SubElement(task, "size").text = str(len(frame_ids))
    ET.SubElement(task, "mode").text = "annotation"
    labels = ET.SubElement(task, "labels")
    for name, kind in [*((c, "rectangle") for c in project.classes), (MASKED, "rectangle"), (REJECT, "tag")]:
        label = ET.SubElement(labels, "label")
        ET.SubElement(label, "name").text = name
        ET.SubElement(label, "type").text = kind
        ET.SubElement(label, "attributes")
    for index, frame_id in enumerate(frame_ids):
        frame = project.frames[frame_id]
        image = ET.SubElement(root, "image", id=str(index), name=project.image_ref(name_template, frame_id, images),
                              width=str(frame.width), height=str(frame.height))
        for box in project.current_boxes(frame_id):
            ET.SubElement(image, "box", label=box.class_name, source="auto" if box.confidence is not None else "manual",
                          occluded="0", xtl=_px(box.x_min), ytl=_px(box.y_min), xbr=_px(box.x_max),
                          ybr=_px(box.y_max), z_order="0")
        for box in project.masked_objects(frame_id):
            ET.SubElement(image, "box", label=MASKED, source="auto", occluded="0", xtl=_px(box.x_min),
                          ytl=_px(box.y_min), xbr=_px(box.x_max), ybr=_px(box.y_max), z_order="0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _box(element: ET.Element, sx: float, sy: float, width: int, height: int) -> tuple[Box | None, bool]:
    """The box of a <box> element (None for a malformed one), and whether it was rotated.

    CVAT turns a box clockwise about its centre by ``rotation`` degrees: a
    rotated one becomes the box enclosing it.
    """
    try:
        turn = float(element.get("rotation", "0"))
        x0, y0, x1, y1 = (float(element.get(k, "nan")) for k in ("xtl", "ytl", "xbr", "ybr"))
        if turn % 360:
            hw, hh = (x1 - x0) / 2, (y1 - y0) / 2
            corners = rotated_corners((x0 + x1) / 2, (y0 + y1) / 2, [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)], turn)
            x0, y0 = min(c[0] for c in corners), min(c[1] for c in corners)
            x1, y1 = max(c[0] for c in corners), max(c[1] for c in corners)
        box = Box.parse({"x_min": x0, "y_min": y0, "x_max": x1, "y_max": y1, "class_name": element.get("label", "")})
        box = box.scaled(sx, sy)
    except ValueError:
        return None, False
    return (box.clipped(width, height) if turn % 360 else box), bool(turn % 360)


def import_xml(project: ReviewProject, text: str, reviewer: str) -> tuple[list[Decision], int, int]:
    """Decisions from a CVAT for images 1.1 export, how many images matched no frame, and how many rotated
    boxes became their enclosing boxes."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise FramehoundError(f"CVAT export: not valid XML: {exc}") from None
    if root.tag != "annotations":
        raise FramehoundError("CVAT export: expected <annotations> (export as 'CVAT for images 1.1')")
    decisions, unknown, rotated = [], 0, 0
    for image in root.iter("image"):
        frame_id = PurePosixPath(image.get("name", "")).stem
        if frame_id not in project.frames:
            unknown += 1
            continue
        frame = project.frames[frame_id]
        sx = frame.width / float(image.get("width", frame.width))
        sy = frame.height / float(image.get("height", frame.height))
        rejected = any(tag.get("label") == REJECT for tag in image.iter("tag"))
        found = [_box(e, sx, sy, frame.width, frame.height) for e in image.iter("box") if e.get("label") != MASKED]
        boxes = [b for b, _ in found if b is not None]
        rotated += sum(turned for b, turned in found if b is not None)
        decisions.append(project.decide(frame_id, None if rejected else boxes, reviewer, source="cvat"))
    return decisions, unknown, rotated
