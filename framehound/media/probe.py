"""Read a video's duration, size and frame rate with ffprobe."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import ffmpeg

from framehound.errors import FramehoundError
from framehound.media.binaries import locate


@dataclass(frozen=True)
class VideoInfo:
    duration: float
    width: int
    height: int
    fps: float
    codec: str


def _last_line(data: bytes | None) -> str:
    lines = [line for line in (data or b"").decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Probe the first video stream; FramehoundError if there is none or ffprobe fails."""
    try:
        info = ffmpeg.probe(os.fspath(path), cmd=locate().ffprobe)
    except ffmpeg.Error as exc:
        raise FramehoundError(f"{path}: not a readable video ({_last_line(exc.stderr)})") from None
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "video"]
    if not streams:
        raise FramehoundError(f"{path}: has no video stream")
    stream = streams[0]
    rate = stream.get("avg_frame_rate") or stream.get("r_frame_rate") or "0/1"
    try:
        fps = float(Fraction(rate)) if Fraction(rate).denominator else 0.0
    except (ValueError, ZeroDivisionError):
        fps = 0.0
    duration = float(info.get("format", {}).get("duration") or stream.get("duration") or 0.0)
    return VideoInfo(
        duration=duration,
        width=int(stream.get("width") or 0),
        height=int(stream.get("height") or 0),
        fps=round(fps, 3),
        codec=str(stream.get("codec_name", "")),
    )
