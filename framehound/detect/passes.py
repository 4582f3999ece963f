"""Test-time augmentation: the passes a frame goes through, and how each pass's boxes map back to the frame.

An offline labeler need not be real-time: the same frame seen at two input
sizes and mirrored finds objects one view misses and places edges better
(docs/quality.md measures it on the ground truth). A pass is one network input
size and whether the frame is mirrored; every pass of a frame comes from one
decoded image, and the passes of a batch of frames run as batches.

Letterboxing keeps the frame's aspect (a 16:9 frame is not squeezed into a
square): the frame is scaled to fit and centred on a grey canvas, as Darknet's
``letter_box`` does. Raw rows come back as fractions of the network input;
``to_frame`` turns them into fractions of the frame, so ``decode`` maps every
pass the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LETTERBOX_GREY = 127  # Darknet's letter_box fill (0.5)


@dataclass(frozen=True)
class Pass:
    """One view of a frame: the network input size, whether the frame keeps its aspect, whether it is mirrored."""

    size: int
    flip: bool = False
    letterbox: bool = False

    @property
    def name(self) -> str:
        return f"{self.size}{'-letterbox' if self.letterbox else ''}{'-flip' if self.flip else ''}"

    @property
    def view(self) -> tuple[int, bool]:
        """What the decode threads prepare for this pass (mirroring is done per batch)."""
        return self.size, self.letterbox


def passes(sizes: list[int] | tuple[int, ...], flip: bool, letterbox: bool) -> tuple[Pass, ...]:
    """Every size, and each also mirrored when ``flip``: in a fixed order, so fusion is deterministic."""
    return tuple(Pass(size, mirrored, letterbox) for size in sizes
                 for mirrored in ((False, True) if flip else (False,)))


@dataclass(frozen=True)
class Placement:
    """Where the frame lies in a square network input: its scaled size and offset, pixels."""

    size: int
    width: int
    height: int
    left: int = 0
    top: int = 0

    @classmethod
    def of(cls, frame_width: int, frame_height: int, size: int, letterbox: bool) -> Placement:
        if not letterbox:
            return cls(size, size, size)
        scale = min(size / frame_width, size / frame_height)
        width, height = max(1, round(frame_width * scale)), max(1, round(frame_height * scale))
        return cls(size, width, height, (size - width) // 2, (size - height) // 2)


def mirrored(batch: np.ndarray) -> np.ndarray:
    """An (N, S, S, 3) batch mirrored left to right, contiguous for the network."""
    return np.ascontiguousarray(batch[:, :, ::-1])


def to_frame(rows: np.ndarray, place: Placement, flip: bool) -> np.ndarray:
    """Raw rows of one pass with ``cx, cy, w, h`` as fractions of the frame, as ``decode`` takes them."""
    if not flip and place.width == place.height == place.size:
        return rows  # stretched, not mirrored: fractions of the input are fractions of the frame
    out = rows.copy()
    if flip:
        out[:, 0] = 1.0 - out[:, 0]
    size = np.float32(place.size)
    out[:, 0] = (out[:, 0] * size - place.left) / place.width
    out[:, 1] = (out[:, 1] * size - place.top) / place.height
    out[:, 2] *= size / place.width
    out[:, 3] *= size / place.height
    return out
