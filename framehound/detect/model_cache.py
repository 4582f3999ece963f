"""A per-user cache of models that are slow to make (the int8 model: a calibration run), outside every project.

Kept under ``$XDG_CACHE_HOME/framehound/openvino`` (``~/.cache`` without it), one
folder per key: ``model.xml``, ``model.bin`` and ``digest.json`` (their sha256).
What this cache guards against, since DVC never sees it:

- a damaged, truncated or missing file: the bytes are checked against the digest
  as they are read, and the very bytes checked are what is compiled; a mismatch is
  one warning line, then the model is made again;
- two processes making the same model: an exclusive lock per key, so the second
  waits and then reads the first's model;
- a kill while making one: the staging folder (``.<key>.partial-*``) is swept by
  the next process that holds the key's lock;
- growth: entries not used for ``STALE_DAYS`` days go, and beyond ``KEEP`` entries
  the least recently used go.

The key is the caller's: it must cover every input of the making, code included.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from framehound.atomic import atomic_path, remove_path

log = logging.getLogger("framehound")

FILES = ("model.xml", "model.bin")
KEEP = 8
STALE_DAYS = 30


def default_cache_dir() -> Path:
    """Where made models are kept: the user's cache folder, outside every project and DVC output."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "framehound" / "openvino"


@dataclass(frozen=True)
class CachedModel:
    """A model's IR as checked bytes, and their digest (what the detection cache key names)."""

    xml: bytes
    weights: bytes
    digest: str


def _digest(files: dict[str, bytes]) -> str:
    return hashlib.sha256("".join(hashlib.sha256(files[name]).hexdigest() for name in FILES).encode()).hexdigest()


def _read_checked(folder: Path) -> CachedModel | str:
    """The folder's model if every file matches ``digest.json``, else what is wrong with it."""
    try:
        recorded = json.loads((folder / "digest.json").read_text(encoding="utf-8"))
        files = {name: (folder / name).read_bytes() for name in FILES}
    except FileNotFoundError as exc:
        return f"{Path(exc.filename).name} is missing"
    except (OSError, ValueError) as exc:
        return f"unreadable ({exc})"
    for name in FILES:
        if hashlib.sha256(files[name]).hexdigest() != recorded.get(name):
            return f"{name} does not match its recorded sha256 (damaged or truncated)"
    return CachedModel(files["model.xml"], files["model.bin"], _digest(files))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _evict(root: Path, keep: str) -> None:
    """Drop entries unused for STALE_DAYS days, then the least recently used beyond KEEP (never ``keep``)."""
    used: dict[Path, float] = {}
    for entry in root.iterdir():
        with contextlib.suppress(FileNotFoundError):  # another process may be evicting too
            if entry.is_dir() and not entry.name.startswith(".") and entry.name != keep:
                used[entry] = entry.stat().st_mtime
    now = time.time()
    for rank, entry in enumerate(sorted(used, key=used.__getitem__, reverse=True), start=2):  # ``keep`` is first
        if rank > KEEP or now - used[entry] > STALE_DAYS * 86400:
            with _locked(root / f".{entry.name}.lock"):  # never while another process reads or makes it
                remove_path(entry)


def cached_model(key: str, make: Callable[[Path], None], what: str, root: Path | None = None) -> CachedModel:
    """The model under ``key``, made by ``make(folder)`` (writing model.xml and model.bin) when absent or damaged."""
    root = root or default_cache_dir()
    folder = root / key
    with _locked(root / f".{key}.lock"):
        for debris in root.glob(f".{key}.partial-*"):  # a killed maker's; a live one would hold the lock
            remove_path(debris)
        found = _read_checked(folder) if folder.exists() else None
        if isinstance(found, str):
            log.warning("%s: the cached model in %s is unusable (%s); making it again", what, folder, found)
            remove_path(folder)
            found = None
        if found is None:
            with atomic_path(folder, directory=True) as staging:
                make(staging)
                files = {name: (staging / name).read_bytes() for name in FILES}
                digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
                (staging / "digest.json").write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n")
            found = CachedModel(files["model.xml"], files["model.bin"], _digest(files))
        os.utime(folder)  # last use, for eviction
    _evict(root, key)
    return found
