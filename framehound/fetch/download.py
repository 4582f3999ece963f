"""Download videos with yt-dlp's Python API, one outcome per video.

Each source is first resolved without downloading (playlists and searches
become their entries), then each video is downloaded on its own, so one
404 or one unavailable video is recorded as a failure and the rest go on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yt_dlp
from yt_dlp.utils import DownloadError

from framehound.fetch.ids import safe_id
from framehound.media.binaries import locate

log = logging.getLogger("framehound")


@dataclass
class Downloaded:
    """A video file yt-dlp wrote, with the metadata provenance needs."""

    id: str
    path: Path
    info: dict[str, Any]


@dataclass
class Failed:
    source: str
    target: str
    reason: str


class _QuietLogger:
    """Routes yt-dlp's chatter to debug; its errors become our failure rows."""

    def debug(self, msg: str) -> None:
        log.debug(msg)

    info = debug

    def warning(self, msg: str) -> None:
        log.debug("yt-dlp warning: %s", msg)

    def error(self, msg: str) -> None:
        log.debug("yt-dlp error: %s", msg)


def format_selector(max_height: int) -> str:
    """Prefer ≤max_height mp4/avc (fast to decode), fall back to anything ≤max_height.

    ``<=?`` keeps formats whose height is unknown (direct file URLs).
    """
    h = max_height
    return (f"bv*[height<=?{h}][ext=mp4][vcodec^=avc]+ba[ext=m4a]/"
            f"b[height<=?{h}][ext=mp4]/bv*[height<=?{h}]+ba/b[height<=?{h}]")


def ydl_options(fetch: dict[str, Any], home: Path, temp: Path) -> dict[str, Any]:
    """yt-dlp options for the fetch params, writing into ``home``."""
    binaries = locate()
    return {
        "format": format_selector(fetch["max_height"]),
        "merge_output_format": "mp4",
        "outtmpl": {"default": "%(id)s.%(ext)s"},
        "paths": {"home": str(home), "temp": str(temp)},
        "ffmpeg_location": os.path.dirname(binaries.ffmpeg),
        "socket_timeout": fetch["socket_timeout"],
        "retries": fetch["retries"],
        "fragment_retries": fetch["retries"],
        "logger": _QuietLogger(),
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "noplaylist": False,
        "overwrites": True,
        "continuedl": False,
        "nopart": False,
        "cachedir": False,
    }


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.removeprefix("ERROR: ").strip()


def _walk(ydl: yt_dlp.YoutubeDL, source: str, result: dict[str, Any]) -> Iterator[dict[str, Any] | Failed]:
    """Video info dicts (unprocessed) below ``result``, recursing into playlists."""
    kind = result.get("_type", "video")
    if kind in {"playlist", "multi_video"}:
        for entry in result.get("entries") or []:
            if entry:
                yield from _walk(ydl, source, entry)
    elif kind in {"url", "url_transparent"}:
        try:
            inner = ydl.extract_info(result["url"], ie_key=result.get("ie_key"),
                                     download=False, process=False)
        except DownloadError as exc:
            yield Failed(source, result["url"], _reason(exc))
            return
        yield from _walk(ydl, source, inner)
    else:
        yield result


def download_source(ydl: yt_dlp.YoutubeDL, source: str, seen: set[str]) -> Iterator[Downloaded | Failed]:
    """Download every video of one URL or search; ``seen`` ids are skipped."""
    try:
        top = ydl.extract_info(source, download=False, process=False)
    except DownloadError as exc:
        yield Failed(source, source, _reason(exc))
        return
    for item in _walk(ydl, source, top):
        if isinstance(item, Failed):
            yield item
            continue
        video_id = safe_id(str(item.get("id") or item.get("webpage_url") or source))
        if video_id in seen:
            continue
        item = {**item, "id": video_id}
        try:
            info = ydl.process_ie_result(item, download=True)
        except DownloadError as exc:
            yield Failed(source, item.get("webpage_url") or item.get("url") or video_id, _reason(exc))
            continue
        paths = [d.get("filepath") for d in info.get("requested_downloads") or []]
        path = Path(paths[0]) if paths and paths[0] else None
        if path is None or not path.is_file():
            yield Failed(source, info.get("webpage_url") or video_id, "yt-dlp wrote no file")
            continue
        seen.add(video_id)
        yield Downloaded(video_id, path, info)
