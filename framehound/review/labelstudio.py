"""Label Studio: pre-annotated tasks out, its JSON export back in as decisions.

Tasks carry the frame's id and hash in ``data``, its current boxes (the
person's when reviewed, else the proposal) as ``predictions`` of
``rectanglelabels`` in percent of the image. On import, a task's latest
submitted annotation becomes the frame's decision: its rectangles are the
boxes, a ``reject`` choice rejects the frame, a skipped task is no decision.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from framehound.boxes import Box
from framehound.decisions.log import Decision
from framehound.errors import FramehoundError

if TYPE_CHECKING:  # the project loads pandas: not at import, so `framehound --help` starts fast
    from framehound.review.project import ReviewProject

FROM_NAME, TO_NAME, VERDICT_NAME, REJECT = "label", "image", "verdict", "reject"
DEFAULT_IMAGE_URL = "/data/local-files/?d={path}"  # Label Studio's local file serving, rooted at the repository


def labeling_config(classes: list[str]) -> str:
    """The labeling config the tasks are made for: one RectangleLabels per class and a reject choice."""
    labels = "".join(f"    <Label value={quoteattr(c)}/>\n" for c in classes)
    return (f'<View>\n  <Image name="{TO_NAME}" value="$image"/>\n'
            f'  <RectangleLabels name="{FROM_NAME}" toName="{TO_NAME}">\n{labels}  </RectangleLabels>\n'
            f'  <Choices name="{VERDICT_NAME}" toName="{TO_NAME}" choice="single">\n'
            f'    <Choice value="{REJECT}"/>\n  </Choices>\n</View>\n')


def _result(box: Box, index: int, width: int, height: int) -> dict[str, Any]:
    x, y, w, h = box.xywh()
    result: dict[str, Any] = {
        "id": f"fh{index}", "type": "rectanglelabels", "from_name": FROM_NAME, "to_name": TO_NAME,
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
        scores = [b.confidence for b in boxes if b.confidence is not None]
        tasks.append({
            "data": {"image": project.image_ref(url_template, frame_id, images), "frame_id": frame_id,
                     "frame_sha256": frame.sha256, "video_id": frame.video_id},
            "predictions": [{"model_version": "framehound", "score": round(min(scores, default=1.0), 4),
                             "result": [_result(b, i, frame.width, frame.height) for i, b in enumerate(boxes)]}],
        })
    return tasks


def _box(item: dict[str, Any], width: int, height: int) -> Box | None:
    """The box of a rectanglelabels result; None for a rotated or malformed one."""
    value = item.get("value", {})
    labels = value.get("rectanglelabels") or []
    if not labels or value.get("rotation", 0):
        return None  # a rotated rectangle is not an axis-aligned box
    w = item.get("original_width") or width
    h = item.get("original_height") or height
    try:
        x, y, box_w, box_h = (value[k] * size / 100 for k, size in (("x", w), ("y", h), ("width", w), ("height", h)))
        box = Box.parse(Box.from_xywh(labels[0], x, y, box_w, box_h).as_dict())  # parse checks what the file said
    except (KeyError, TypeError, ValueError):
        return None
    return box.scaled(width / w, height / h)


def _annotator(annotation: dict[str, Any], fallback: str) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    return f"labelstudio:{who}" if who not in (None, "") else fallback


def _frame_of(task: dict[str, Any], project: ReviewProject, by_hash: dict[str, str]) -> str | None:
    """The task's frame: by the hash the export put in, else by id, else by the image's file name."""
    data = task.get("data", {})
    if data.get("frame_sha256") in by_hash:
        return by_hash[data["frame_sha256"]]
    frame_id = data.get("frame_id") or PurePosixPath(str(data.get("image", ""))).stem
    return frame_id if frame_id in project.frames else None


def import_tasks(project: ReviewProject, tasks: Any, reviewer: str) -> tuple[list[Decision], int]:
    """Decisions from a Label Studio JSON export, and how many annotated tasks matched no frame."""
    if not isinstance(tasks, list):
        raise FramehoundError("Label Studio export: expected a JSON list of tasks (export as JSON, not JSON-MIN)")
    decisions, unknown = [], 0
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
        boxes = [b for r in results if r.get("type") == "rectanglelabels"
                 and (b := _box(r, frame.width, frame.height)) is not None]
        decisions.append(project.decide(frame_id, None if rejected else boxes, _annotator(latest, reviewer),
                                        source="labelstudio"))
    return decisions, unknown
