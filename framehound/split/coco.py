"""COCO detection export: ``annotations/instances_{split}.json`` beside ``images/{split}/``.

Ids are positions in a fixed order (frames by id, boxes by class, best
confidence first), so the same dataset always gets the same ids and bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from framehound.atomic import write_text
from framehound.split.assign import SPLITS, Walk


def coco_document(split_frames: Iterable[tuple[Any, pd.DataFrame]], classes: list[str]) -> dict[str, Any]:
    """The COCO dict for one split's ``(frame, boxes)`` (as ``split_walk`` gives them); boxes as
    ``[x, y, w, h]`` pixels to 2 decimals."""
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, (frame, boxes) in enumerate(split_frames, start=1):
        images.append({"id": image_id, "file_name": f"{frame.frame_id}.jpg",
                       "width": int(frame.width), "height": int(frame.height)})
        for box in boxes.itertuples(index=False):
            w, h = round(float(box.x_max - box.x_min), 2), round(float(box.y_max - box.y_min), 2)
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": int(box.class_index) + 1,
                "bbox": [round(float(box.x_min), 2), round(float(box.y_min), 2), w, h],
                "area": round(w * h, 2), "iscrowd": 0, "segmentation": [],
            })
    return {
        "info": {"description": "framehound"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i + 1, "name": name, "supercategory": "object"} for i, name in enumerate(classes)],
    }


def write_coco(root: Path, walk: Walk, classes: list[str]) -> None:
    """Write one COCO json per split, empty splits included, so every loader config finds its file."""
    for split in SPLITS:
        document = coco_document(walk[split], classes)
        write_text(root / "annotations" / f"instances_{split}.json", json.dumps(document) + "\n")
