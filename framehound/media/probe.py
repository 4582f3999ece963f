"""Read a video's duration, size and frame rate.

Through ffmpeg itself (imageio-ffmpeg parses its stream header), so there is
no dependency on an ffprobe binary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import imageio_ffmpeg

from framehound.errors import FramehoundError
from framehound.media.binaries import locate


@dataclass(frozen=True)
class VideoInfo:
    duration: float
    width: int
    height: int
    fps: float
    codec: str


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Probe the first video stream; FramehoundError if ffmpeg cannot read one."""
    locate()
    try:
        frames = imageio_ffmpeg.read_frames(os.fspath(path))
        meta = next(frames)
        frames.close()
    except (OSError, RuntimeError, StopIteration) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FramehoundError(f"{path}: not a readable video ({first})") from None
    width, height = meta.get("size") or (0, 0)
    return VideoInfo(duration=float(meta.get("duration") or 0.0), width=int(width), height=int(height),
                     fps=round(float(meta.get("fps") or 0.0), 3), codec=str(meta.get("codec", "")))
