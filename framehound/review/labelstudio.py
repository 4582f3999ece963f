"""Label Studio: pre-annotated tasks out, its JSON export back in as decisions.

Tasks carry the frame's id and hash in ``data``, its current boxes (the
person's when reviewed, else the proposal) as ``predictions`` of
``rectanglelabels`` in percent of the image, and the unlabelled objects the
dataset would mask under a second control (``masked``), so annotators see
them: drawing a real box over one labels it. The labeling config turns
rotation off. On import, a task's latest submitted annotation becomes the
frame's decision: its ``label`` rectangles are the boxes (a rotated one
becomes its enclosing box, with a warning), a ``reject`` choice rejects the
frame, a skipped task is no decision; ``masked`` regions stay masked.
"""

from __future__ import annotations

import math
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from framehound.boxes import Box
from framehound.decisions.log import Decision
from framehound.errors import FramehoundError

if TYPE_CHECKING:  # the project loads pandas: not at import, so `framehound --help` starts fast
    from framehound.review.project import ReviewProject

FROM_NAME, TO_NAME, VERDICT_NAME, REJECT, MASKED = "label", "image", "verdict", "reject", "masked"
DEFAULT_IMAGE_URL = "/data/local-files/?d={path}"  # Label Studio's local file serving, rooted at the repository


def labeling_config(classes: list[str]) -> str:
    """The labeling config the tasks are made for: one RectangleLabels per class and a reject choice."""
    labels = "".join(f"    <Label value={quoteattr(c)}/>\n" for c in classes)
    return (f'<View>\n  <Image name="{TO_NAME}" value="$image"/>\n'
            f'  <RectangleLabels name="{FROM_NAME}" toName="{TO_NAME}" canRotate="false">\n{labels}'
            '  </RectangleLabels>\n'
            f'  <RectangleLabels name="{MASKED}" toName="{TO_NAME}" canRotate="false" opacity="0.5">\n{labels}'
            '  </RectangleLabels>\n'
            f'  <Choices name="{VERDICT_NAME}" toName="{TO_NAME}" choice="single">\n'
            f'    <Choice value="{REJECT}"/>\n  </Choices>\n</View>\n')


def _result(box: Box, index: int, width: int, height: int, control: str = FROM_NAME) -> dict[str, Any]:
    x, y, w, h = box.xywh()
    result: dict[str, Any] = {
        "id": f"fh{index}", "type": "rectanglelabels", "from_name": control, "to_name": TO_NAME,
        "original_width": width, "original_height": height, "image_rotation": 0,
        "value": {"x": round(100 * x / width, 4), "y": round(100 * y / height, 4),
                  "width": round(100 * w / width, 4), "height": round(100 * h / height, 4),
                  "rotation": 0, "rectanglelabels": [box.class_name]},
    }
    if box.confidence is not None:
        result["score"] = round(box.confidence, 4)
    return result


def export_tasks(project: ReviewProject, frame_ids: list[str], url_template: str,
                 images: Path) -> list[dict[str, Any]]:
    """One task per frame, with its current boxes as a prediction; the images are those in ``images``."""
    tasks = []
    for frame_id in frame_ids:
        frame = project.frames[frame_id]
        boxes = project.current_boxes(frame_id)
        masked = project.masked_objects(frame_id)
        scores = [b.confidence for b in boxes if b.confidence is not None]
        tasks.append({
            "data": {"image": project.image_ref(url_template, frame_id, images), "frame_id": frame_id,
                     "frame_sha256": frame.sha256, "video_id": frame.video_id},
            "predictions": [{"model_version": "framehound", "score": round(min(scores, default=1.0), 4),
                             "result": [_result(b, i, frame.width, frame.height) for i, b in enumerate(boxes)]
                             + [_result(b, len(boxes) + i, frame.width, frame.height, MASKED)
                                for i, b in enumerate(masked)]}],
        })
    return tasks


def _box(item: dict[str, Any], width: int, height: int) -> tuple[Box | None, bool]:
    """The box of a rectanglelabels result (None for a malformed one), and whether it was rotated.

    Label Studio rotates a rectangle about its top-left corner (x, y),
    clockwise in degrees: a rotated one becomes the box enclosing it.
    """
    value = item.get("value", {})
    labels = value.get("rectanglelabels") or []
    if not labels:
        return None, False
    w = item.get("original_width") or width
    h = item.get("original_height") or height
    try:
        x, y, box_w, box_h = (value[k] * size / 100 for k, size in (("x", w), ("y", h), ("width", w), ("height", h)))
        turn = float(value.get("rotation", 0) or 0)
        corners = rotated_corners(x, y, [(0, 0), (box_w, 0), (box_w, box_h), (0, box_h)], turn)
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        box = Box.parse(Box(labels[0], min(xs), min(ys), max(xs), max(ys)).as_dict())  # parse checks the file
        box = box.clipped(int(w), int(h)) if turn % 360 else box
    except (KeyError, TypeError, ValueError):
        return None, False
    return (None if box is None else box.scaled(width / w, height / h)), bool(turn % 360)


def rotated_corners(cx: float, cy: float, offsets: list[tuple[float, float]],
                    degrees: float) -> list[tuple[float, float]]:
    """Points at ``offsets`` from (cx, cy) turned clockwise by ``degrees`` (image y points down)."""
    a = math.radians(degrees)
    return [(cx + dx * math.cos(a) - dy * math.sin(a), cy + dx * math.sin(a) + dy * math.cos(a)) for dx, dy in offsets]


def _annotator(annotation: dict[str, Any], fallback: str) -> str:
    """``labelstudio:<email>``: from ``completed_by`` when it is a user object, else from Label Studio's
    ``created_username`` ("First Last email, id"), else the user id."""
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    named = str(annotation.get("created_username") or "").rsplit(",", 1)[0].split()
    if not (isinstance(who, str) and "@" in who) and named and "@" in named[-1]:
        who = named[-1]
    return f"labelstudio:{who}" if who not in (None, "") else fallback


def _frame_of(task: dict[str, Any], project: ReviewProject, by_hash: dict[str, str]) -> str | None:
    """The task's frame: by the hash the export put in, else by id, else by the image's file name."""
    data = task.get("data", {})
    if data.get("frame_sha256") in by_hash:
        return by_hash[data["frame_sha256"]]
    frame_id = data.get("frame_id") or PurePosixPath(str(data.get("image", ""))).stem
    return frame_id if frame_id in project.frames else None


def import_tasks(project: ReviewProject, tasks: Any, reviewer: str) -> tuple[list[Decision], int, int]:
    """Decisions from a Label Studio JSON export, how many annotated tasks matched no frame, and how many
    rotated rectangles became their enclosing boxes."""
    if not isinstance(tasks, list):
        raise FramehoundError("Label Studio export: expected a JSON list of tasks (export as JSON, not JSON-MIN)")
    decisions, unknown, rotated = [], 0, 0
    by_hash = {f.sha256: f.frame_id for f in project.frames.values()}
    for task in tasks:
        annotations = [a for a in task.get("annotations", []) if not a.get("was_cancelled")]
        if not annotations:
            continue
        frame_id = _frame_of(task, project, by_hash)
        if frame_id is None:
            unknown += 1
            continue
        frame = project.frames[frame_id]
        latest = max(annotations, key=lambda a: str(a.get("updated_at") or a.get("created_at") or ""))
        results = latest.get("result", [])
        rejected = any(REJECT in (r.get("value", {}).get("choices") or []) for r in results)
        found = [_box(r, frame.width, frame.height) for r in results
                 if r.get("type") == "rectanglelabels" and r.get("from_name", FROM_NAME) != MASKED]
        boxes = [b for b, _ in found if b is not None]
        rotated += sum(turned for b, turned in found if b is not None)
        decisions.append(project.decide(frame_id, None if rejected else boxes, _annotator(latest, reviewer),
                                        source="labelstudio"))
    return decisions, unknown, rotated
