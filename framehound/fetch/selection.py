"""Filters on video metadata, evaluated before any media is downloaded."""

from __future__ import annotations

import re
from typing import Any

from framehound.params import FetchParams

# The params that decide which videos a source yields: a change re-resolves every source.
FILTERS = ("min_duration", "max_duration", "allow_live", "licenses", "upload_date_after", "upload_date_before")


def rejection(info: dict[str, Any], fetch: FetchParams) -> tuple[str, str] | None:
    """(rule, value) of the first filter that rejects ``info``, or None to keep it.

    Missing metadata passes every filter except the license filter: a
    Creative-Commons-only dataset must not take a video whose license is
    unknown. Duration is checked again on the downloaded file
    (``duration_rejection``).
    """
    duration = info.get("duration")
    rejected = duration_rejection(duration, fetch) if duration is not None else None
    if rejected:
        return rejected
    if not fetch.allow_live and (info.get("is_live") or info.get("live_status") in {"is_live", "is_upcoming"}):
        return "live", str(info.get("live_status") or "is_live")
    if fetch.licenses:
        license_text = str(info.get("license") or "")
        if not any(re.search(pattern, license_text, re.IGNORECASE) for pattern in fetch.licenses):
            return "license", license_text or "unknown"
    date = info.get("upload_date")
    if date:
        if fetch.upload_date_after is not None and str(date) < str(fetch.upload_date_after):
            return "upload_date_after", str(date)
        if fetch.upload_date_before is not None and str(date) > str(fetch.upload_date_before):
            return "upload_date_before", str(date)
    return None


def duration_rejection(duration: float, fetch: FetchParams) -> tuple[str, str] | None:
    """(rule, value) when ``duration`` is outside the duration filters, else None.

    The only filter a downloaded file is checked against again: the others
    judge metadata that the file itself does not carry (a license, a date).
    """
    if fetch.min_duration is not None and duration < fetch.min_duration:
        return "min_duration", f"{duration:g}s"
    if fetch.max_duration is not None and duration > fetch.max_duration:
        return "max_duration", f"{duration:g}s"
    return None
