"""Downloads on a Ray cluster, polite cluster-wide: at most ``fetch.concurrency`` at once per site.

Each download runs as a task on some worker, which writes into its own
temporary folder and sends the file back to the driver (the store lives
there). A site's slots are held by one ``SiteGate`` actor for the whole
cluster, so adding workers never adds load on a site. The cookies file goes
to each worker as bytes inside the task (written to a private temporary
file, deleted after), the proxy as an option: neither is ever logged.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from yt_dlp.utils import DownloadError

from framehound.fetch.download import download, reason, site_metadata, ydl_options
from framehound.params import FetchParams


class SiteGate:
    """Cluster-wide download slots per site (a Ray async actor: its awaits do not block each other)."""

    def __init__(self, per_site: int) -> None:
        self.per_site = per_site
        self.slots: dict[str, asyncio.Semaphore] = {}

    async def acquire(self, site: str) -> None:
        await self.slots.setdefault(site, asyncio.Semaphore(self.per_site)).acquire()

    async def release(self, site: str) -> None:
        self.slots[site].release()


def site_of(entry: dict[str, Any]) -> str:
    """The host a download will hit (the extractor's name when the entry has no URL)."""
    url = entry.get("webpage_url") or entry.get("url") or ""
    return urlparse(url).hostname or str(entry.get("extractor_key") or entry.get("extractor") or "unknown")


@dataclass(frozen=True)
class DownloadTask:
    fetch: FetchParams
    entry: dict[str, Any]
    video_id: str
    section: tuple[float, float] | None
    gate: Any               # a SiteGate actor handle
    cookies: bytes = b""    # the cookies file's content, when fetch.cookies is set


@dataclass(frozen=True)
class Downloaded:
    video_id: str
    data: bytes = b""
    suffix: str = ""
    info: dict[str, Any] | None = None
    error: str = ""


def download_remote(task: DownloadTask) -> Downloaded:
    """Download on this worker, holding one of the site's slots; the file comes back as bytes."""
    import ray

    site = site_of(task.entry)
    ray.get(task.gate.acquire.remote(site))
    try:
        with tempfile.TemporaryDirectory(prefix="framehound-fetch-") as scratch:
            fetch = task.fetch
            if task.cookies:
                cookie_file = Path(scratch) / "cookies.txt"
                cookie_file.write_bytes(task.cookies)
                os.chmod(cookie_file, 0o600)
                fetch = replace(fetch, cookies=str(cookie_file))
            try:
                media, info = download(ydl_options(fetch, Path(scratch)), task.entry, task.video_id, task.section)
            except DownloadError as exc:
                return Downloaded(task.video_id, error=reason(exc))
            return Downloaded(task.video_id, media.read_bytes(), media.suffix, site_metadata(info))
    finally:
        ray.get(task.gate.release.remote(site))

