"""Sample JPEG frames from one video with ffmpeg (through ffmpeg-python).

Three ways to choose the frames (``extract.mode``):

- ``fps``: one frame every ``1 / extract.fps`` seconds (ffmpeg's fps filter),
  frame ``i`` at ``i / fps`` seconds;
- ``keyframes``: only the video's keyframes. ``-skip_frame nokey`` is an
  input option: the decoder skips every other frame, so the video is not
  decoded in full (a 2-minute 720p clip with a keyframe every 5 s: about
  0.5 s against 9 s for a full decode, see docs/performance.md);
- ``scenes``: the first frame and every frame whose scene score (ffmpeg's
  ``select`` filter, the change from the previous frame, 0..1) exceeds
  ``extract.scene_threshold``: one frame per shot.

In ``keyframes`` and ``scenes`` modes the frames are irregular, so each
frame's timestamp is read rather than computed. They come from the
``showinfo`` filter, last in the chain, which logs every frame it passes to
the JPEG encoder, in output order, with its integer ``pts`` and the time base
(``config in time_base``): the time is exact rational arithmetic, from the
same run, no second decode. The alternative, ``-frame_pts 1`` (files named by
pts), needs the stream's time base from ffprobe, which the imageio-ffmpeg
wheel does not ship, and names files by the encoder's time base rather than
the stream's. The printed ``pts_time`` is only a fallback (older ffmpeg
builds print it with 6 significant digits: 10 ms steps past 1000 s). Output
runs with ``-fps_mode passthrough``, so no frame is duplicated or dropped
between showinfo and the files: the n-th logged frame is the n-th file.

``extract.max_frames_per_video`` never cuts a video short: when sampling at
``extract.fps`` would yield more frames, the step widens to the whole
millisecond that spreads that many over the video (a 3-hour video at fps 1
with a cap of 300: one frame every 36 s, not the first 5 minutes); in
``keyframes`` and ``scenes`` modes every candidate is found and that many are
kept, evenly spaced among them. ``Sampled.spread`` says when either happened.

Times are relative to the video stream's first frame (as in ``fps`` mode),
which is what ``scenes`` writes first; ``keyframes`` finds it with a
one-frame decode. Frames whose times round to the same millisecond (or go
backwards) would share a frame id: the first is kept, the others dropped.
"""

from __future__ import annotations

import math
import os
import re
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from framehound.errors import FramehoundError
from framehound.hashing import sha256_file
from framehound.media.binaries import locate
from framehound.media.probe import probe_video
from framehound.params import ExtractParams

_TIME_BASE = re.compile(r"config in time_base: (\d+)/(\d+)")
_FRAME = re.compile(r"\bn:\s*\d+\s+pts:\s*(-?\d+)\s+pts_time:(\S+)")


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Size with the longer side at most ``max_side``, even dimensions, never upscaled."""
    scale = min(1.0, max_side / max(width, height))

    def even(value: float) -> int:
        return max(2, round(value / 2) * 2)

    return even(width * scale), even(height * scale)


def frame_id(video_id: str, t_ms: int) -> str:
    """Stable, readable frame id: the video id and the timestamp in milliseconds."""
    return f"{video_id}_{t_ms}"


def _run(video: Path, stream: Any) -> str:
    """Run ffmpeg; its stderr, or FramehoundError with ffmpeg's last complaint."""
    try:
        _, err = stream.run(cmd=locate().ffmpeg, capture_stdout=True, capture_stderr=True)
    except ffmpeg.Error as exc:
        lines = [ln for ln in (exc.stderr or b"").decode("utf-8", "replace").splitlines() if ln.strip()]
        errors = [ln for ln in lines if "[error]" in ln or "[fatal]" in ln] or lines
        last = errors[-1] if errors else "no output"
        raise FramehoundError(f"{video}: ffmpeg could not decode it ({last})") from None
    return (err or b"").decode("utf-8", "replace")


def _showinfo_times(stderr: str) -> list[Fraction]:
    """Seconds of each frame the showinfo filter logged, in order."""
    lines = [ln for ln in stderr.splitlines() if "Parsed_showinfo" in ln]
    base = next((Fraction(int(m[1]), int(m[2])) for m in map(_TIME_BASE.search, lines) if m and int(m[2])), None)
    return [Fraction(int(m[1])) * base if base else Fraction(m[2]) for m in map(_FRAME.search, lines) if m]


def _first_frame_time(video: Path) -> Fraction:
    """When the video stream's first frame is shown (one frame decoded)."""
    stream = ffmpeg.input(os.fspath(video)).output("-", format="null", vf="showinfo", an=None, **{"frames:v": 1})
    times = _showinfo_times(_run(video, stream.global_args("-nostdin", "-hide_banner", "-nostats",
                                                              "-loglevel", "level+info")))
    if not times:
        raise FramehoundError(f"{video}: no frames decoded")
    return times[0]


def fps_step_ms(settings: ExtractParams, duration: float | None) -> int | None:
    """The step (ms) spreading ``max_frames_per_video`` over ``duration`` s in ``fps`` mode, when
    ``extract.fps`` would stop short of the end; None when it would not or the duration is unknown."""
    if settings.mode != "fps" or not duration or duration * settings.fps <= settings.max_frames_per_video:
        return None
    return math.ceil(duration * 1000 / settings.max_frames_per_video)


def _command(video: Path, pattern: str, settings: ExtractParams, width: int, height: int,
             step_ms: int | None, duration: float | None) -> Any:
    """The ffmpeg command for ``settings.mode``; keyframes and scenes are not capped here (see ``_evenly``).

    A simple filter chain (``-vf``) and no ``-map``: ffmpeg decodes the video
    stream it selects itself, the one ``probe_video`` measured (never a cover picture).
    A video shorter than one sampling period keeps its first frame: the fps
    filter alone drops it when the video ends before half a period.
    """
    output = {"q:v": settings.jpeg_qscale, "start_number": 0, "an": None, "sn": None, "dn": None, "xerror": None}
    scale = f"scale={width}:{height}"
    if settings.mode == "fps":
        rate = f"1000/{step_ms}" if step_ms else settings.fps
        at_end = ":eof_action=pass" if duration and duration * settings.fps < 1 else ""
        return (
            ffmpeg.input(os.fspath(video))
            .output(pattern, vf=f"fps=fps={rate}{at_end},{scale}", **output,
                    **{"frames:v": settings.max_frames_per_video})
            .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
            .overwrite_output()
        )
    if settings.mode == "keyframes":
        source, chain = ffmpeg.input(os.fspath(video), skip_frame="nokey"), f"{scale},showinfo"
    else:
        source = ffmpeg.input(os.fspath(video))
        chain = f"select='eq(n,0)+gt(scene,{settings.scene_threshold})',{scale},showinfo"
    return (
        source.output(pattern, vf=chain, fps_mode="passthrough", **output)
        .global_args("-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info")
        .overwrite_output()
    )


def _evenly(count: int, cap: int) -> list[int]:
    """``cap`` indices of ``range(count)`` spread evenly from the first to the last (all of them when they fit)."""
    if count <= cap:
        return list(range(count))
    return [round(i * (count - 1) / (cap - 1)) for i in range(cap)] if cap > 1 else [0]


@dataclass(frozen=True)
class Sampled:
    rows: list[dict]
    spread: str = ""  # how frames were spread over a video the cap would have cut short; "" when not


def extract_frames(video: Path, video_id: str, out_dir: Path, settings: ExtractParams,
                   size: tuple[int, int] | None = None, duration: float | None = None) -> list[dict]:
    """Write ``<frame_id>.jpg`` files into ``out_dir``; return one row per frame, in time order (``sample_frames``)."""
    return sample_frames(video, video_id, out_dir, settings, size, duration).rows


def sample_frames(video: Path, video_id: str, out_dir: Path, settings: ExtractParams,
                  size: tuple[int, int] | None = None, duration: float | None = None) -> Sampled:
    """Write ``<frame_id>.jpg`` files into ``out_dir``; the rows, one a frame in time order, and any spreading.

    ``t_ms`` (and so the frame id) is ``i * step`` in ``fps`` mode (``1000 / fps``
    ms, or wider to spread the cap over the video) and the frame's
    presentation time otherwise (see the module docstring). ``size`` and
    ``duration`` are what fetch measured: probing again costs an ffmpeg
    start, as much as decoding a short clip. Raises FramehoundError for an
    undecodable video.
    """
    if size is None or (settings.mode == "fps" and not duration):
        info = probe_video(video)
        size, duration = (info.width, info.height), info.duration
    if size[0] <= 0 or size[1] <= 0:
        raise FramehoundError(f"{video}: video stream has no size")
    width, height = fit_size(*size, settings.max_side)
    numbered = out_dir / f".{video_id}.ffmpeg"  # ffmpeg's own names, renamed below
    numbered.mkdir(parents=True, exist_ok=True)
    step_ms = fps_step_ms(settings, duration)
    try:
        origin = _first_frame_time(video) if settings.mode == "keyframes" else None
        stderr = _run(video, _command(video, os.fspath(numbered / "%08d.jpg"), settings, width, height, step_ms,
                                       duration))
    except FramehoundError:
        shutil.rmtree(numbered)
        raise
    images = sorted(numbered.glob("*.jpg"))
    spread = f"one frame every {step_ms / 1000:g} s instead of {1 / settings.fps:g} s" if step_ms else ""
    if settings.mode == "fps":
        times_ms = [index * step_ms if step_ms else round(index * 1000 / settings.fps)
                    for index in range(len(images))]
    else:
        times = _showinfo_times(stderr)
        if len(times) < len(images):
            shutil.rmtree(numbered)
            raise FramehoundError(f"{video}: ffmpeg logged {len(times)} timestamps for {len(images)} frames")
        origin = times[0] if origin is None else origin
        times_ms = [round((t - origin) * 1000) for t in times[:len(images)]]
        kept = set(_evenly(len(images), settings.max_frames_per_video))
        for index in set(range(len(images))) - kept:
            images[index].unlink()
        if len(kept) < len(images):
            spread = f"{len(kept)} of its {len(images)} {settings.mode} kept, evenly spaced"
        images, times_ms = [images[i] for i in sorted(kept)], [times_ms[i] for i in sorted(kept)]
    rows: list[dict] = []
    for image, t_ms in zip(images, times_ms, strict=True):
        if rows and t_ms <= rows[-1]["t_ms"]:
            image.unlink()  # same millisecond as the frame before: one id, one frame
            continue
        fid = frame_id(video_id, t_ms)
        path = out_dir / f"{fid}.jpg"
        image.rename(path)
        rows.append({"frame_id": fid, "video_id": video_id, "t_ms": t_ms,
                     "path": path, "sha256": sha256_file(path), "width": width, "height": height})
    numbered.rmdir()
    if not rows:
        raise FramehoundError(f"{video}: no frames decoded")
    return Sampled(rows, spread)
