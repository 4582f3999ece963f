"""One revision's dataset as the diff needs it: classes, split of each frame, label files, params.

Label files are only listed here (path and md5); their boxes are read later
and only for the frames whose labels can differ, which keeps a diff of a
large dataset with few changes fast.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

import yaml

from framehound.boxes import Box, UnknownClassIndex, parse_labels
from framehound.datasetdiff.revision import Revision, list_files, read_files, read_text
from framehound.errors import FramehoundError
from framehound.layout import paths
from framehound.split.assign import SPLITS


@dataclass(frozen=True)
class LabelFile:
    path: str
    md5: str | None  # None for a git-tracked file: its content is always read


@dataclass(frozen=True)
class Snapshot:
    revision: Revision
    classes: list[str]
    split_of: dict[str, str]  # frame id -> split
    labels: dict[str, LabelFile]  # frame id -> label file; a listed frame without one has no boxes
    params: dict[str, Any]


def _label_path(image: str) -> str:
    """Darknet's rule: the label of images/<split>/<id>.jpg is labels/<split>/<id>.txt."""
    label = image.replace("images/", "labels/", 1)
    return f"{paths.dataset}/{posixpath.splitext(label)[0]}.txt"


def read_snapshot(revision: Revision) -> Snapshot:
    """Read obj.names, the split lists, the label listing and params.yaml of ``revision``."""
    names = read_text(revision, f"{paths.dataset}/obj.names").splitlines()
    classes = [name.strip() for name in names if name.strip()]  # COCO has "traffic light"
    listed = list_files(revision, f"{paths.dataset}/labels")
    split_of: dict[str, str] = {}
    labels: dict[str, LabelFile] = {}
    for split in SPLITS:
        for image in read_text(revision, f"{paths.dataset}/{split}.txt").split():
            frame_id = posixpath.splitext(posixpath.basename(image))[0]
            split_of[frame_id] = split
            label = _label_path(image)
            if label in listed:
                labels[frame_id] = LabelFile(label, listed[label])
    try:
        params = yaml.safe_load(read_text(revision, paths.params)) or {}
    except yaml.YAMLError as exc:
        raise FramehoundError(f"{paths.params}: not valid YAML at revision {revision.name!r} ({exc})") from None
    if not isinstance(params, dict):
        raise FramehoundError(f"{paths.params}: not a mapping at revision {revision.name!r}")
    return Snapshot(revision, classes, split_of, labels, params)


def frames_to_compare(old: Snapshot, new: Snapshot) -> tuple[list[str], list[str]]:
    """Frame ids whose boxes must be read from ``old`` and from ``new``.

    Frames in one revision only, and frames in both whose label content may
    differ: same md5 and same obj.names mean same boxes, wherever the frame is.
    """
    same_classes = old.classes == new.classes
    common = [
        f for f in sorted(old.split_of.keys() & new.split_of.keys())
        if not (same_classes and _same_content(old.labels.get(f), new.labels.get(f)))
    ]
    return (sorted(old.split_of.keys() - new.split_of.keys()) + common,
            sorted(new.split_of.keys() - old.split_of.keys()) + common)


def _same_content(a: LabelFile | None, b: LabelFile | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.md5 is not None and a.md5 == b.md5


def read_boxes(snapshot: Snapshot, frame_ids: list[str]) -> dict[str, list[Box]]:
    """Boxes of ``frame_ids`` with class names from this revision's obj.names."""
    labels = {f: snapshot.labels[f] for f in frame_ids if f in snapshot.labels}
    contents = read_files(snapshot.revision, {label.path: label.md5 for label in labels.values()})
    return {f: read_label_file(snapshot, labels[f].path, contents[labels[f].path]) if f in labels else []
            for f in frame_ids}


def read_label_file(snapshot: Snapshot, path: str, data: bytes) -> list[Box]:
    """The boxes of a label file, normalized to the image (pixels of a 1×1 image)."""
    where = f"{path} at revision {snapshot.revision.name!r}"
    try:
        return parse_labels(data.decode("utf-8"), snapshot.classes, 1, 1)
    except UnknownClassIndex as exc:
        raise FramehoundError(f"{where}: class {exc.index} is not in obj.names ({exc.classes} classes)") from None
    except ValueError as exc:
        raise FramehoundError(f"{where}: not YOLO label lines 'class cx cy w h' ({exc})") from None
