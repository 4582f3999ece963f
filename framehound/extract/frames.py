"""Sample JPEG frames from one video with ffmpeg (through ffmpeg-python)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import ffmpeg

from framehound.errors import FramehoundError
from framehound.hashing import sha256_file
from framehound.media.binaries import locate
from framehound.media.probe import probe_video
from framehound.params import ExtractParams


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Size with the longer side at most ``max_side``, even dimensions, never upscaled."""
    scale = min(1.0, max_side / max(width, height))

    def even(value: float) -> int:
        return max(2, round(value / 2) * 2)

    return even(width * scale), even(height * scale)


def frame_id(video_id: str, t_ms: int) -> str:
    """Stable, readable frame id: the video id and the timestamp in milliseconds."""
    return f"{video_id}_{t_ms}"


def extract_frames(video: Path, video_id: str, out_dir: Path, settings: ExtractParams) -> list[dict]:
    """Write ``<frame_id>.jpg`` files into ``out_dir``; return one row per frame.

    The fps filter emits frame ``i`` at ``i / fps`` seconds, which gives the
    timestamp in the frame id. Raises FramehoundError for an undecodable video.
    """
    info = probe_video(video)
    if info.width <= 0 or info.height <= 0:
        raise FramehoundError(f"{video}: video stream has no size")
    width, height = fit_size(info.width, info.height, settings.max_side)
    numbered = out_dir / f".{video_id}.ffmpeg"  # ffmpeg's own names, renamed below
    numbered.mkdir(parents=True, exist_ok=True)
    pattern = os.fspath(numbered / "%08d.jpg")
    stream = (
        ffmpeg.input(os.fspath(video))
        .video.filter("fps", fps=settings.fps)
        .filter("scale", width, height)
        .output(pattern, **{"q:v": settings.jpeg_qscale, "frames:v": settings.max_frames_per_video,
                            "start_number": 0, "an": None, "xerror": None})
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
        .overwrite_output()
    )
    try:
        stream.run(cmd=locate().ffmpeg, capture_stdout=True, capture_stderr=True)
    except ffmpeg.Error as exc:
        shutil.rmtree(numbered)
        lines = [ln for ln in (exc.stderr or b"").decode("utf-8", "replace").splitlines() if ln.strip()]
        raise FramehoundError(f"{video}: ffmpeg could not decode it ({lines[-1] if lines else 'no output'})") from None
    rows = []
    for index, image in enumerate(sorted(numbered.glob("*.jpg"))):
        t_ms = round(index * 1000 / settings.fps)
        fid = frame_id(video_id, t_ms)
        path = out_dir / f"{fid}.jpg"
        image.rename(path)
        rows.append({"frame_id": fid, "video_id": video_id, "t_ms": t_ms,
                     "path": path, "sha256": sha256_file(path), "width": width, "height": height})
    numbered.rmdir()
    if not rows:
        raise FramehoundError(f"{video}: no frames decoded")
    return rows
