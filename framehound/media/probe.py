"""Read a video's duration, size and frame rate: those of the video stream ffmpeg itself picks.

A file may hold several video streams (two angles, a cover-art picture). The
probe asks ffmpeg to decode one frame with its own stream selection (no
``-map``: the best video stream, never an attached picture) and reads the
chosen stream from its "Stream mapping"; extract's commands select the same
way, so the size and rate recorded are those of the frames extracted. The
size is that of the decoded frame (after any rotation ffmpeg applies), as
extract sees it. No ffprobe binary is needed.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

from framehound.errors import FramehoundError
from framehound.media.binaries import locate

_MAPPED = re.compile(r"^\s*Stream #0:(\d+)\S* -> #0:0", re.MULTILINE)
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_SIZE = re.compile(r" (\d+)x(\d+)[, ]")
_FPS = re.compile(r" (\d+(?:\.\d+)?) fps")


@dataclass(frozen=True)
class VideoInfo:
    duration: float
    width: int
    height: int
    fps: float
    codec: str


def _video_line(section: str, stream: str) -> str | None:
    return next((ln for ln in section.splitlines()
                 if re.match(rf"\s*Stream #0:{stream}\b", ln) and " Video: " in ln), None)


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Probe the video stream ffmpeg selects; FramehoundError if it cannot decode a frame of one."""
    command = [locate().ffmpeg, "-hide_banner", "-nostdin", "-i", os.fspath(path), "-an", "-sn", "-dn",
               "-frames:v", "1", "-f", "null", "-"]
    try:
        result = subprocess.run(command, capture_output=True, check=False)
    except OSError as exc:
        raise FramehoundError(f"{path}: not a readable video ({exc.strerror or exc})") from None
    text = result.stderr.decode("utf-8", "replace")
    inputs, _, outputs = text.partition("\nStream mapping:")
    mapped = _MAPPED.search(outputs)
    source = _video_line(inputs, mapped[1]) if mapped else None
    decoded = _video_line(outputs.partition("\nOutput #0")[2], "0")
    if result.returncode != 0 or not source or not decoded or not _SIZE.search(decoded):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        raise FramehoundError(f"{path}: not a readable video ({lines[-1] if lines else 'no output'})")
    width, height = map(int, _SIZE.search(decoded).groups())
    duration = _DURATION.search(inputs)
    fps = _FPS.search(source)
    return VideoInfo(duration=int(duration[1]) * 3600 + int(duration[2]) * 60 + float(duration[3]) if duration else 0.0,
                     width=width, height=height, fps=round(float(fps[1]), 3) if fps else 0.0,
                     codec=source.split(" Video: ", 1)[1].split(" ", 1)[0].rstrip(","))
