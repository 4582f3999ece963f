"""Atomic outputs: a crash never leaves a half-written file where DVC looks.

Every output is first written under a temporary sibling name and renamed into
place only when complete. ``os.replace`` is atomic within one filesystem,
which is why the temporary lives next to the target and not in /tmp.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def remove_path(path: Path) -> None:
    """Delete a file, a link or a whole folder, whichever ``path`` is."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path that replaces ``target`` only if the block succeeds.

    With ``directory=True`` the yielded path is an empty directory. On any
    exception the temporary is deleted and ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}.partial-"
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, dir=target.parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        if target.exists() or target.is_symlink():
            remove_path(target)
        os.replace(tmp, target)
        os.chmod(target, 0o755 if directory else 0o644)
    finally:
        if tmp.exists():
            remove_path(tmp)


def write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` with ``\\n`` line ends to ``target`` atomically."""
    write_bytes(target, text.encode("utf-8"))


def write_json(target: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON with sorted keys atomically, so equal data gives equal bytes."""
    write_text(target, json.dumps(data, indent=2, sort_keys=True) + "\n")


def remove_debris(output: str | os.PathLike[str], *, inside: bool = False) -> int:
    """Delete what killed writers left of ``output``; return how many paths went.

    ``atomic_path`` stages under ``.<name>.partial-*`` beside its target, so a
    SIGKILL leaves such siblings; inside a ``persist: true`` output (which DVC
    never empties) they would be cached and pushed. ``inside`` also sweeps the
    output's own tree: only persistent outputs need it, DVC deletes the others.
    """
    output = Path(output)
    found = list(output.parent.glob(f".{glob.escape(output.name)}.partial-*")) if output.parent.is_dir() else []
    if inside and output.is_dir():
        found += list(output.rglob(".*.partial-*"))
    for path in found:
        if path.exists() or path.is_symlink():
            remove_path(path)
    return len(found)
