"""One video's extraction as a unit of work that travels by value.

The worker gets the video's bytes or path and the settings, extracts into a
private temporary folder and returns the rows and the JPEG bytes: it needs
no view of the driver's checkout, and the driver alone writes data/frames.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framehound.errors import FramehoundError
from framehound.extract.frames import sample_frames
from framehound.params import ExtractParams


@dataclass(frozen=True)
class VideoTask:
    video_id: str
    params: ExtractParams
    name: str               # the video's path on the driver, for messages
    data: bytes = b""       # the file itself, for workers without the checkout; else ``name`` is read
    size: tuple[int, int] | None = None  # (width, height) as fetch measured it; None: probe it
    duration: float | None = None        # seconds, as fetch measured it; None: probe it (fps mode)


@dataclass(frozen=True)
class VideoFrames:
    video_id: str
    rows: list[dict[str, Any]] = field(default_factory=list)  # frame rows without ``path``
    jpegs: list[bytes] = field(default_factory=list)
    error: str = ""
    spread: str = ""  # how the frames were spread over a video max_frames_per_video would have cut short


def extract_video(task: VideoTask) -> VideoFrames:
    """Frames of one video, or the reason it could not be decoded (a failure row, never a crashed job)."""
    with tempfile.TemporaryDirectory(prefix="framehound-extract-") as scratch:
        video = Path(scratch) / f"video{Path(task.name).suffix}" if task.data else Path(task.name)
        if task.data:
            video.write_bytes(task.data)
        try:
            found = sample_frames(video, task.video_id, Path(scratch) / "frames", task.params, task.size,
                                  task.duration)
        except FramehoundError as exc:
            return VideoFrames(task.video_id, error=str(exc).replace(str(video), task.name))
        jpegs = [Path(row.pop("path")).read_bytes() for row in found.rows]
    return VideoFrames(task.video_id, found.rows, jpegs, spread=found.spread)
