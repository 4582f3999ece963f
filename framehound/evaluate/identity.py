"""Ground truth is scored only against the picture it was drawn on.

A frame id names a time (``<video_id>_<t_ms>``), not a picture: in ``fps``
mode it is the nominal ``i * 1000 / fps``, and at another rate ffmpeg picks
another source frame for the same id (after ``extract.fps`` 4 → 2 every
ground-truth id of the default footage showed another picture, and evaluate
scored them all without a word). So each ground-truth image that has its
picture beside the JSON (``file_name``, relative to the JSON's folder) is
compared with the run's frame of that id by content:

- the same bytes (sha256, which extract records for every frame): the same
  picture, nothing decoded;
- otherwise both are decoded, the ground truth's scaled to the frame's size,
  and the mean grey of each 8×8 block compared: a re-encode or a resize
  blurs detail but keeps the blocks' means, another moment of the video moves
  some block a lot (a walker took a step, the camera panned), so the largest
  block difference decides. Measured on the sample footage at 320 and 1280 px
  (docs/quality.md): another picture under the same id at least 10 of 255; a
  re-encode (JPEG quality 75, 80) or half or double size at most 4, but up to
  11 where vtest's highlights are blown out. The bar, 8, errs towards
  refusing: a refused picture is named, a wrongly accepted one would be
  scored silently.

A frame whose picture differs is not scored, and evaluate says so in its
line and in ``metrics/quality.json``. A ground-truth image without its
picture cannot be checked: it is scored by id, and counted as unverified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from framehound.evaluate.groundtruth import GroundTruth
from framehound.hashing import sha256_file
from framehound.shards import read_jpeg

BLOCK = 8           # pixels of a block side, at the frame's size
SAME_PICTURE = 8.0  # the largest block-mean difference of one picture re-encoded or resized (module docstring)


@dataclass
class Pictures:
    """What comparing the ground truth's pictures with the run's frames found."""

    same: list[str] = field(default_factory=list)        # frame ids whose picture is the ground truth's
    other: list[str] = field(default_factory=list)       # frame ids showing another picture: not scored
    unverified: list[str] = field(default_factory=list)  # ground truth without its picture: scored by id

    def figures(self) -> dict:
        """metrics/quality.json's account of frame identity."""
        return {"groundtruth_images_other_picture": sorted(self.other),
                "groundtruth_images_unverified": len(self.unverified)}


def compare_pictures(truth: GroundTruth, sampled: pd.DataFrame, root: Path = Path(".")) -> Pictures:
    """Sort the sampled frames that have ground truth into same, other and unverified pictures.

    ``root`` is what the frames table's shard paths are relative to (the project).
    """
    pictures = Pictures()
    for frame in sampled[sampled["frame_id"].isin(truth.sizes)].sort_values("frame_id").itertuples(index=False):
        picture = truth.pictures.get(frame.frame_id)
        if picture is None or not picture.is_file():
            pictures.unverified.append(frame.frame_id)
        elif sha256_file(picture) == frame.sha256 or _looks_the_same(picture, frame, root):
            pictures.same.append(frame.frame_id)
        else:
            pictures.other.append(frame.frame_id)
    return pictures


def _grey(data: bytes) -> np.ndarray | None:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)


def _looks_the_same(picture: Path, frame: Any, root: Path) -> bool:
    """Is the ground truth's ``picture`` the frame's picture, re-encoded or resized?"""
    shard = Path(frame.shard)
    mine = _grey(read_jpeg(shard if shard.is_absolute() else root / shard, int(frame.offset), int(frame.size),
                           frame.sha256))
    theirs = _grey(picture.read_bytes())
    if mine is None or theirs is None:
        return False
    height, width = mine.shape
    theirs = cv2.resize(theirs, (width, height), interpolation=cv2.INTER_AREA)
    return block_difference(mine, theirs) <= SAME_PICTURE


def block_difference(a: np.ndarray, b: np.ndarray) -> float:
    """The largest difference of the mean grey of BLOCK×BLOCK blocks of two same-size grey images (0..255)."""
    height, width = a.shape
    size = (max(1, width // BLOCK), max(1, height // BLOCK))
    means = [cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32) for image in (a, b)]
    return float(np.abs(means[0] - means[1]).max())
