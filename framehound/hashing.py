"""Content hashes, streamed so multi-GB videos never sit in memory."""

from __future__ import annotations

import hashlib
import os


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def code_digest(*modules: object) -> str:
    """Hex sha256 of the source files of ``modules``: what a cache key needs so that a change to the code
    that makes a cached thing is a new key, with no version constant to bump by hand."""
    digest = hashlib.sha256()
    for module in modules:
        with open(module.__file__, "rb") as handle:  # type: ignore[attr-defined]
            digest.update(handle.read())
    return digest.hexdigest()
