"""The tables passed between stages: columns, meaning, and deterministic I/O.

Small tables are CSV (readable in a diff), big ones parquet. Rows are sorted
by their key before writing so identical inputs give identical bytes, which
is what lets DVC skip unchanged stages and makes dataset diffs meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from framehound.atomic import atomic_path


@dataclass(frozen=True)
class Table:
    """Column names with their meaning, and the key rows are sorted by."""

    columns: dict[str, str]
    key: tuple[str, ...]

# data/fetch/videos.csv — one row per fetched video.
VIDEOS = Table({
    "id": "video id from yt-dlp (sanitized) or <file stem>-<sha256[:8]> for local files",
    "source": "the fetch.sources entry that produced the video",
    "webpage_url": "page the video came from (or the local path)",
    "extractor": "yt-dlp extractor name, or 'local'",
    "title": "title reported by the site",
    "uploader": "uploader reported by the site, else the source's credit option",
    "channel": "channel reported by the site",
    "license": "license reported by the site, else the source's license option (empty when unknown)",
    "upload_date": "YYYYMMDD reported by the site",
    "duration": "seconds, measured with ffmpeg",
    "width": "pixels",
    "height": "pixels",
    "fps": "frames per second",
    "sha256": "hash of the video file",
    "fetched_at": "UTC time the video was downloaded (ISO 8601); empty for local files",
    "tags": "tags of the sources that list the video, ';'-separated",
    "path": "data/videos/<id>.<ext>",
}, key=("id",))

# data/fetch/failures.csv and data/extract/skipped.csv — what could not be used, and why.
FAILURES = Table({
    "source": "the fetch.sources entry (or video id for extract)",
    "target": "URL, path or id that failed",
    "reason": "one-line reason",
}, key=("source", "target"))

# data/fetch/rejected.csv — videos a metadata filter rejected before download.
REJECTIONS = Table({
    "source": "the fetch.sources entry",
    "target": "video id",
    "rule": "min_duration, max_duration, live, license, upload_date_after or upload_date_before",
    "value": "the metadata value that failed the rule",
}, key=("source", "target"))

# data/extract/frames.parquet — one row per extracted frame.
FRAMES = Table({
    "frame_id": "<video_id>_<t_ms>",
    "video_id": "id in videos.csv",
    "t_ms": "timestamp of the frame in the video, milliseconds",
    "shard": "file holding the JPEG: data/frames/<video_id>.zip (framehound.shards), or a loose .jpg",
    "offset": "byte offset of the JPEG in the shard (the member is stored uncompressed)",
    "size": "bytes of the JPEG",
    "sha256": "hash of the JPEG bytes: the detection cache and review decisions match frames by it",
    "width": "pixels of the JPEG",
    "height": "pixels of the JPEG",
}, key=("frame_id",))

# data/screen/quality.parquet — why each extracted frame was kept or not.
QUALITY = Table({
    "frame_id": "frame in data/extract/frames.parquet",
    "video_id": "video of the frame",
    "t_ms": "timestamp in the video",
    "dhash": "64-bit difference hash, hex (empty when undecodable)",
    "sharpness": "variance of the Laplacian of the grayscale frame",
    "rejected_by": "'' (kept), 'blur', 'duplicate' or 'undecodable'",
}, key=("frame_id",))

# data/screen-cache/measures.parquet — screen's measurements by JPEG content, kept across runs:
# a rerun measures only frames it has not seen (a frame's bytes decide both values).
MEASURES = Table({
    "sha256": "sha256 of the JPEG (frames table)",
    "dhash": "64-bit difference hash, hex (empty when undecodable)",
    "sharpness": "variance of the Laplacian of the grayscale frame",
}, key=("sha256",))

# data/screen/groups.parquet — videos that share content, kept in one split together.
GROUPS = Table({
    "video_id": "id in videos.csv",
    "group": "the first video id of its group (itself when it shares nothing)",
    "reason": "why it is in the group: 'same file with <id>', '<n> near-duplicate frame pairs with <id>'; '' alone",
}, key=("video_id",))

# data/detect/detections.parquet — every box above detect.conf_floor. This table and LABELS are the
# columnar form of framehound.boxes.Box rows (Box.from_row reads one).
DETECTIONS = Table({
    "frame_id": "frame in frames.parquet",
    "class_id": "index in the model's .names",
    "class_name": "name from the model's .names",
    "confidence": "objectness × class probability",
    "x_min": "pixels", "y_min": "pixels", "x_max": "pixels", "y_max": "pixels",
}, key=("frame_id", "class_id", "confidence", "x_min", "y_min"))

# data/filter/labels.parquet — boxes that make it into the dataset.
LABELS = Table({
    "frame_id": "frame in frames.parquet",
    "video_id": "video of the frame",
    "class_index": "0..k-1 in the order of filter.classes, then filter.new_classes",
    "class_name": "name of the class",
    "confidence": "detector confidence",
    "x_min": "pixels", "y_min": "pixels", "x_max": "pixels", "y_max": "pixels",
}, key=("frame_id", "class_index", "confidence", "x_min", "y_min"))


# data/filter/unlabelled.parquet — objects of the requested classes a labelled frame would leave unlabelled
# (framehound.filter.completeness), and what filter.incomplete did about each.
UNLABELLED = Table({
    "frame_id": "frame in frames.parquet",
    "video_id": "video of the frame",
    "class_name": "class of the object",
    "confidence": "the detector's box confidence (0 for a tracked miss: no box here)",
    "x_min": "pixels", "y_min": "pixels", "x_max": "pixels", "y_max": "pixels",
    "reason": "low_confidence, small_box, large_box, border_box or tracked_miss",
    "outcome": "masked, dropped, held (for review), kept, or dismissed (a person said it is not an object)",
}, key=("frame_id", "reason", "class_name", "x_min", "y_min"))


# data/evaluate/images.csv — each ground-truth image of the dataset, scored (framehound.evaluate).
SCORED_IMAGES = Table({
    "frame_id": "frame with ground truth that the dataset keeps",
    "groundtruth_boxes": "objects a label is required for (not ignored, not masked)",
    "labels": "the dataset's labels there, less those on ignored regions",
    "matched": "labels on an object at IoU >= 0.5",
    "missed": "objects without such a label",
    "masked": "objects mostly under the dataset's grey masks",
    "complete": "1 when every object has a label, else 0",
}, key=("frame_id",))

# data/evaluate/sweep.csv — the labeler's precision and recall on the ground truth at every threshold
# (framehound.evaluate.sweep): detect's boxes of the dataset's classes at or above it, before filter's rules.
SWEEP = Table({
    "class_name": "a dataset class, or 'all'",
    "threshold": "confidence a box needs to count (0.05 to 0.95)",
    "labels": "boxes at or above it on the ground-truth images, less those on ignored regions",
    "matched": "of those, on an object at IoU >= 0.5",
    "groundtruth_boxes": "objects a box is required for",
    "precision": "matched / labels at IoU 0.5",
    "recall": "matched / groundtruth_boxes at IoU 0.5",
    "f1": "harmonic mean of precision and recall",
    "precision@0.75": "precision at IoU 0.75",
    "mean_iou": "mean IoU of the matches ('all' rows only)",
}, key=("class_name", "threshold"))

NUMERIC = {"threshold", "precision", "recall", "f1", "precision@0.75", "mean_iou",
           "groundtruth_boxes", "labels", "matched", "missed", "masked", "complete",
           "duration", "width", "height", "fps", "t_ms", "offset", "size", "class_id", "class_index", "confidence",
           "x_min", "y_min", "x_max", "y_max"}


def empty(table: Table) -> pd.DataFrame:
    """An empty frame with the table's columns."""
    return pd.DataFrame({name: [] for name in table.columns})


def in_order(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """``frame`` with exactly the table's columns, sorted by its key (confidence descending)."""
    return frame[list(table.columns)].sort_values(
        list(table.key), ascending=[k != "confidence" for k in table.key], kind="mergesort"
    ).reset_index(drop=True)


def write_table(frame: pd.DataFrame, path: str | Path, table: Table) -> None:
    """Write ``frame`` with exactly the table's columns, sorted by its key, atomically.

    Confidence sorts descending so the best box of a frame comes first.
    """
    missing = [c for c in table.columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    ordered = in_order(frame, table)
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            ordered.to_parquet(tmp, index=False)
        else:
            ordered.to_csv(tmp, index=False, lineterminator="\n")


def read_table(path: str | Path, table: Table) -> pd.DataFrame:
    """Read a table written by ``write_table``."""
    path = Path(path)
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    else:
        text_columns = {c: str for c in table.columns if c not in NUMERIC}
        frame = pd.read_csv(path, keep_default_na=False, dtype=text_columns)
    return frame[list(table.columns)]
