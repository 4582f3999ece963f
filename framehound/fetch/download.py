"""yt-dlp through its Python API: resolve sources to videos, download one video.

Resolving (playlists and searches into their entries, each with metadata)
never downloads media, so filters and the "already have it" check cost no
video bytes. Each download gets its own YoutubeDL, which is not thread-safe.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yt_dlp
from yt_dlp.postprocessor.ffmpeg import FFmpegPostProcessor
from yt_dlp.utils import DownloadError, download_range_func

from framehound.media.binaries import locate
from framehound.params import FetchParams

log = logging.getLogger("framehound")


@dataclass
class Failed:
    source: str
    target: str
    reason: str


@dataclass
class Rejected:
    """A video a metadata filter turned down, before any request for its media."""

    target: str
    rule: str
    value: str


Filter = Callable[[dict[str, Any]], tuple[str, str] | None]


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


def _backoff(attempt: int) -> float:
    """Seconds before retry ``attempt``: doubling, at most 30."""
    return min(2.0 ** attempt, 30.0)


def ydl_options(fetch: FetchParams, temp: Path) -> dict[str, Any]:
    """yt-dlp options from the fetch params; cookies and proxy are passed, never logged."""
    options: dict[str, Any] = {
        "format": format_selector(fetch.max_height),
        "merge_output_format": "mp4",
        "outtmpl": {"default": "%(id)s.%(ext)s"},
        "paths": {"home": str(temp), "temp": str(temp)},
        "ffmpeg_location": locate().ytdlp_location,
        "socket_timeout": fetch.socket_timeout,
        "retries": fetch.retries,
        "fragment_retries": fetch.retries,
        "extractor_retries": fetch.retries,
        "retry_sleep_functions": {"http": _backoff, "fragment": _backoff},
        "sleep_interval_requests": fetch.sleep_requests,
        "logger": _QuietLogger(),
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "overwrites": True,
        "cachedir": False,
    }
    if fetch.sleep_downloads:
        options["sleep_interval"] = fetch.sleep_downloads
    if fetch.rate_limit:
        options["ratelimit"] = fetch.rate_limit
    if fetch.cookies:
        options["cookiefile"] = os.path.expanduser(fetch.cookies)
    if fetch.proxy:
        options["proxy"] = fetch.proxy
    return options


def site_metadata(info: dict[str, Any]) -> dict[str, str]:
    """What the store keeps of yt-dlp's info dict (which also holds objects that need not travel to the driver)."""
    return {"webpage_url": info.get("webpage_url") or info.get("original_url") or "",
            "extractor": info.get("extractor_key") or info.get("extractor") or "",
            **{key: info.get(key) or "" for key in ("title", "uploader", "channel", "license", "upload_date")}}


def reason(exc: Exception) -> str:
    """yt-dlp's error message as one line, without its ``ERROR:`` prefix.

    Falls back to the underlying exception when yt-dlp's own message is empty.
    """
    text = str(exc).strip().removeprefix("ERROR:").strip()
    cause = (getattr(exc, "exc_info", None) or (None, None))[1]
    if not text and cause is not None:
        text = f"{type(cause).__name__}: {cause}".strip()
    return (text.splitlines() or [type(exc).__name__])[0]


Candidate = dict[str, Any] | Failed | Rejected


def candidates(ydl: yt_dlp.YoutubeDL, source: str, url: str, reject: Filter) -> Iterator[Candidate]:
    """Video info dicts (metadata, no media) that ``url`` leads to, in order.

    ``reject`` is applied as early as metadata allows: a search result or a
    page that states a video's duration is turned down before the video's
    own URL is requested at all.
    """
    try:
        top = ydl.extract_info(url, download=False, process=False)
    except DownloadError as exc:
        yield Failed(source, url, reason(exc))
        return
    yield from _walk(ydl, source, top, reject)


def _walk(ydl: yt_dlp.YoutubeDL, source: str, result: dict[str, Any], reject: Filter) -> Iterator[Candidate]:
    kind = result.get("_type", "video")
    if kind in {"playlist", "multi_video"}:
        for entry in result.get("entries") or []:
            if entry:
                yield from _walk(ydl, source, entry, reject)
        return
    rejected = reject(result)
    if rejected:
        yield Rejected(str(result.get("id") or result.get("url") or source), *rejected)
    elif kind in {"url", "url_transparent"}:
        try:
            inner = ydl.extract_info(result["url"], ie_key=result.get("ie_key"), download=False, process=False)
        except DownloadError as exc:
            yield Failed(source, result["url"], reason(exc))
            return
        yield from _walk(ydl, source, _merge_transparent(result, inner) if kind == "url_transparent" else inner,
                         reject)
    else:
        yield result


_INNER_ONLY = {"_type", "url", "id", "extractor", "extractor_key", "ie_key"}


def _merge_transparent(outer: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    """yt-dlp's url_transparent rule: the outer page's metadata wins, except identity fields."""
    return {**inner, **{k: v for k, v in outer.items() if v is not None and k not in _INNER_ONLY}}


def download(options: dict[str, Any], entry: dict[str, Any], video_id: str,
             section: tuple[float, float] | None) -> tuple[Path, dict[str, Any]]:
    """Download one resolved entry under ``video_id``; DownloadError on failure."""
    options = dict(options)
    # yt-dlp checks for ffmpeg before partial downloads without its options,
    # through this context variable (its CLI sets it the same way).
    FFmpegPostProcessor._ffmpeg_location.set(options["ffmpeg_location"])
    if section:
        options["download_ranges"] = download_range_func(None, [section])
        options["force_keyframes_at_cuts"] = True  # cut on the second, not on the next keyframe
    with yt_dlp.YoutubeDL(options) as ydl:
        info = ydl.process_ie_result({**entry, "id": video_id}, download=True)
    paths = [d.get("filepath") for d in info.get("requested_downloads") or []]
    if not paths or not paths[0] or not Path(paths[0]).is_file():
        raise DownloadError("yt-dlp wrote no file")
    return Path(paths[0]), info
