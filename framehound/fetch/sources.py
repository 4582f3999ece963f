"""What a ``fetch.sources`` entry is, decided before anything is downloaded.

Accepted: http(s) URLs, yt-dlp search prefixes (``ytsearch10:dogs``),
``pkg:<module>/<path>`` files shipped inside an installed Python package (how
the default config reaches its offline sample footage), and local paths,
folders or globs. Any other scheme (``file://``, ``ftp://``) is refused so a
params file can never make yt-dlp read arbitrary local files through a URL.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

SEARCH = re.compile(r"^[a-z]*search[a-z]*(\d+|all)?:.+", re.IGNORECASE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi", ".mpg", ".mpeg", ".ts", ".flv"}


@dataclass(frozen=True)
class Source:
    """A classified source entry: ``kind`` is url, search, pkg or local."""

    entry: str
    kind: str


def classify(entry: str) -> Source:
    """Kind of a source entry (no validation: see ``source_problem``)."""
    if entry.startswith(("http://", "https://")):
        return Source(entry, "url")
    if entry.startswith("pkg:"):
        return Source(entry, "pkg")
    if SEARCH.match(entry):
        return Source(entry, "search")
    return Source(entry, "local")


def source_problem(entry: str) -> str | None:
    """Why ``entry`` is not an acceptable source, or None."""
    if SCHEME.match(entry) and not entry.startswith(("http://", "https://")):
        return "only http(s) URLs, yt-dlp search prefixes, pkg: resources and local paths are accepted"
    if entry.startswith("pkg:") and not re.fullmatch(r"pkg:[A-Za-z_][\w.]*/[^\0]+", entry):
        return "expected pkg:<module>/<path inside the package>"
    if "\0" in entry:
        return "contains a NUL character"
    return None


def resolve_pkg(entry: str) -> Path:
    """Path of a ``pkg:<module>/<path>`` resource, found without importing the module."""
    module, _, inner = entry.removeprefix("pkg:").partition("/")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {module!r} is not installed")
    root = Path(next(iter(spec.submodule_search_locations))).resolve()
    path = (root / inner).resolve()
    if root not in path.parents:
        raise FileNotFoundError(f"{inner!r} is outside package {module!r}")
    return path


def expand_local(entry: str) -> list[Path]:
    """Video files a local path, folder or glob names, sorted for determinism."""
    path = Path(os.path.expanduser(entry))
    if path.is_file():
        return [path]
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.is_file()]
    else:
        found = [Path(p) for p in glob.glob(os.path.expanduser(entry), recursive=True)]
    return sorted(p for p in found if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
