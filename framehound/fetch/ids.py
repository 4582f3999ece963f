"""Video ids that are safe to use as file names and frame-id prefixes."""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def safe_id(raw: str) -> str:
    """``raw`` reduced to ``[A-Za-z0-9_-]``, at most 80 characters.

    Ids come from remote sites; an id with ``/``, ``..`` or NUL must never
    escape data/videos/. Anything changed gets a short hash of the original
    appended, so two different raw ids never collapse into one.
    """
    cleaned = _UNSAFE.sub("-", raw).strip("-")[:64]
    if cleaned == raw and cleaned:
        return cleaned
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned}-{digest}" if cleaned else digest


def local_id(stem: str, sha256: str) -> str:
    """Id of a local file: its readable name plus a content hash prefix."""
    return f"{safe_id(stem)}-{sha256[:8]}"
