"""Write data/dataset/: images and YOLO label files, plus each requested format's files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import yaml

from framehound.boxes import Box, format_labels
from framehound.errors import FramehoundError
from framehound.filter.completeness import mask_regions
from framehound.params import EXPORT_FORMATS
from framehound.shards import read_jpeg
from framehound.split.assign import SPLITS, Walk, split_walk
from framehound.split.coco import write_coco
from framehound.split.darknet import write_darknet
from framehound.split.voc import write_voc

MASKED_QUALITY = 95  # JPEG quality of an image whose unlabelled objects were greyed out

# A format's files, written from the dataset's one walk (``split_walk``).
Writer = Callable[..., None]


def _image_lists(root: Path, walk: Walk) -> None:
    """train.txt/val.txt/test.txt with image paths relative to ``root``, by frame id."""
    for split in SPLITS:
        (root / f"{split}.txt").write_text("".join(f"images/{split}/{frame.frame_id}.jpg\n"
                                                   for frame, _ in walk[split]))


def write_yolo(root: Path, walk: Walk, classes: list[str]) -> None:
    """Ultralytics data.yaml.

    No ``path`` key, so paths resolve next to data.yaml wherever the folder is
    moved; ``test`` only when it has images (it is optional there).
    """
    config: dict = {"train": "images/train", "val": "images/val"}
    if walk["test"]:
        config["test"] = "images/test"
    config |= {"nc": len(classes), "names": dict(enumerate(classes))}
    (root / "data.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def _image(frame: Any, boxes: list[Box], masks: list[Box]) -> bytes:
    """The frame's JPEG as extracted, or, with ``masks``, re-encoded with those regions greyed out."""
    jpeg = read_jpeg(frame.shard, int(frame.offset), int(frame.size), frame.sha256)
    if not masks:
        return jpeg
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise FramehoundError(f"{frame.shard}: frame {frame.frame_id} cannot be decoded")
    ok, encoded = cv2.imencode(".jpg", mask_regions(image, masks, boxes), [cv2.IMWRITE_JPEG_QUALITY, MASKED_QUALITY])
    if not ok:
        raise FramehoundError(f"frame {frame.frame_id}: cannot encode the masked image")
    return encoded.tobytes()


def _layout(root: Path, walk: Walk, classes: list[str], masks: dict[str, list[Box]]) -> None:
    """The core every format builds on, and `framehound diff` reads.

    images/<split>/<frame>.jpg, labels/<split>/<frame>.txt (YOLO lines, empty
    for negatives), train.txt/val.txt/test.txt and obj.names.
    """
    for split in SPLITS:
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for frame, group in walk[split]:
            boxes = [Box.from_row(r) for r in group.itertuples(index=False)]
            (root / "images" / split / f"{frame.frame_id}.jpg").write_bytes(
                _image(frame, boxes, masks.get(frame.frame_id, [])))
            (root / "labels" / split / f"{frame.frame_id}.txt").write_text(
                format_labels(boxes, classes, frame.width, frame.height))
    _image_lists(root, walk)
    (root / "obj.names").write_text("".join(c + "\n" for c in classes))


# Darknet's also takes the model it starts training from (``base_model``, which ``write_dataset`` passes).
WRITERS: dict[str, Writer] = {"darknet": write_darknet, "yolo": write_yolo, "coco": write_coco, "voc": write_voc}


def write_dataset(root: Path, frames: pd.DataFrame, labels: pd.DataFrame, split_of: dict[str, str],
                  classes: list[str], formats: Sequence[str] = EXPORT_FORMATS,
                  masks: dict[str, list[Box]] | None = None, base_model: Path | None = None) -> None:
    """Fill ``root`` with the images and the files of each format in ``formats``.

    ``frames`` are the kept frames (where their JPEGs lie: ``shard``, ``offset``, ``size``), ``labels`` their boxes in
    pixels, ``split_of`` maps each video to its split, ``masks`` the regions of unlabelled objects to grey out
    per frame (filter.incomplete: mask); ``base_model`` is the model folder (model.cfg, model.weights) Darknet's
    files start training from, needed for the darknet format.
    """
    walk = split_walk(frames, labels, split_of)
    _layout(root, walk, classes, masks or {})
    writers = WRITERS | {"darknet": partial(write_darknet, base_model=base_model)}
    for name in formats:
        writers[name](root, walk, classes)
