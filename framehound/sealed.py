"""Kept-across-runs files that carry a digest of their own content, so damage is found on read.

The caches (data/screen-cache, data/detect-cache) and fetch's records (data/videos)
live in ``persist: true`` outputs: DVC never rebuilds them, so a truncated or
bit-flipped file would be read, or crash every later run. Each carries the
sha256 of its content; a reader that finds it wrong discards the file and
rebuilds what it held. Parquet keeps the digest in its schema metadata (of
the rows as pandas reads them back); a JSON record keeps it under ``SEAL``.
A file without one was written before seals and is trusted: its next write seals it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from framehound.atomic import atomic_path

SEAL = "sealed_sha256"
_PARQUET_KEY = f"framehound.{SEAL}".encode()


def _frame_digest(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``frame`` (no index) atomically, sealed; the same rows give the same bytes."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sealed = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                            _PARQUET_KEY: _frame_digest(table.to_pandas()).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(sealed, tmp)


def read_parquet(path: str | os.PathLike[str]) -> pd.DataFrame | None:
    """The rows of a parquet file ``write_parquet`` wrote; None when it cannot be read or its seal is wrong."""
    try:
        table = pq.read_table(path)
        frame = table.to_pandas()
        seal = (table.schema.metadata or {}).get(_PARQUET_KEY)
        intact = seal is None or seal.decode(errors="replace") == _frame_digest(frame)
    except Exception:  # any damage (thrift, snappy, arrow, pandas metadata, bytes in strings): not this file
        return None
    return frame if intact else None


def _record_digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def seal_record(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with the digest of its other fields under ``SEAL`` (write it with ``atomic.write_json``)."""
    body = {k: v for k, v in record.items() if k != SEAL}
    return {**body, SEAL: _record_digest(body)}


def read_record(path: Path) -> dict[str, Any] | None:
    """The JSON object at ``path`` without its seal; None when unreadable, not an object or its seal is wrong."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    seal = record.pop(SEAL, None)
    return record if seal is None or seal == _record_digest(record) else None
