"""Write data/dataset/ in Darknet and Ultralytics YOLO layout, plus its metrics."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import yaml

from framehound.atomic import write_text
from framehound.split.assign import SPLITS
from framehound.split.yolo_labels import PixelBox, format_labels


def write_dataset(root: Path, frames: pd.DataFrame, labels: pd.DataFrame,
                  split_of: dict[str, str], classes: list[str]) -> dict:
    """Fill ``root`` with images, labels, lists and configs; return the metrics.

    ``frames`` are the kept frames (with ``path``), ``labels`` their boxes.
    Lists hold paths relative to ``root``, so the folder can be moved.
    """
    by_frame = {fid: group for fid, group in labels.groupby("frame_id", sort=True)}
    listed: dict[str, list[str]] = {s: [] for s in SPLITS}
    boxes = {s: dict.fromkeys(classes, 0) for s in SPLITS}
    videos = {s: set() for s in SPLITS}
    for frame in frames.sort_values("frame_id").itertuples(index=False):
        split = split_of[frame.video_id]
        image = Path("images") / split / f"{frame.frame_id}.jpg"
        (root / image).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(frame.path, root / image)
        group = by_frame.get(frame.frame_id, labels.iloc[0:0])
        pixel_boxes = [PixelBox(int(r.class_index), r.x_min, r.y_min, r.x_max, r.y_max)
                       for r in group.itertuples(index=False)]
        label = Path("labels") / split / f"{frame.frame_id}.txt"
        (root / label).parent.mkdir(parents=True, exist_ok=True)
        (root / label).write_text(format_labels(pixel_boxes, frame.width, frame.height))
        listed[split].append(image.as_posix())
        videos[split].add(frame.video_id)
        for name in group["class_name"]:
            boxes[split][name] += 1
    for split in SPLITS:
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        (root / f"{split}.txt").write_text("".join(p + "\n" for p in listed[split]))
    (root / "obj.names").write_text("".join(c + "\n" for c in classes))
    (root / "obj.data").write_text(
        f"classes = {len(classes)}\ntrain = train.txt\nvalid = val.txt\n"
        f"names = obj.names\nbackup = backup/\n")
    # Ultralytics: no ``path`` key, so paths resolve next to data.yaml wherever
    # the folder is moved; ``test`` only when it has images (it is optional).
    data_yaml = {"train": "images/train", "val": "images/val"}
    if listed["test"]:
        data_yaml["test"] = "images/test"
    data_yaml |= {"nc": len(classes), "names": dict(enumerate(classes))}
    (root / "data.yaml").write_text(yaml.safe_dump(data_yaml, sort_keys=False))
    return {
        "images": {s: len(listed[s]) for s in SPLITS} | {"total": sum(map(len, listed.values()))},
        "boxes": boxes,
        "videos": {s: len(videos[s]) for s in SPLITS},
    }


def write_metrics(path: Path, metrics: dict) -> None:
    """metrics/dataset.json with sorted keys, so equal datasets give equal bytes."""
    write_text(path, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
