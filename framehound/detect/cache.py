"""Reuse detections of frames already seen with the same model and settings.

Keyed by the sha256 of the frame's JPEG bytes plus a hash of everything that
changes the result (model files, input size, floor, NMS, backend): adding a
video runs inference on its frames only, and changing any setting starts over.
The cache lives in a ``persist: true`` DVC output, which DVC does not delete
before the stage runs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from framehound.atomic import atomic_path

# Detection columns stored per frame hash; a row with class_id -1 marks a
# frame that was processed and had no detection.
COLUMNS = ["frame_sha256", "class_id", "confidence", "x_min", "y_min", "x_max", "y_max"]


def cache_key(settings: dict[str, Any]) -> str:
    """Short hash of the settings that determine detections."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def empty_cache() -> pd.DataFrame:
    """A cache with no rows."""
    return pd.DataFrame({c: [] for c in COLUMNS})


def load_cache(folder: Path, key: str) -> pd.DataFrame:
    """Cached rows for ``key`` (empty when there are none)."""
    path = folder / f"{key}.parquet"
    return pd.read_parquet(path) if path.is_file() else empty_cache()


def save_cache(folder: Path, key: str, rows: pd.DataFrame) -> None:
    """Replace the cache with ``rows`` for ``key``; older keys are dropped.

    DVC's own run-cache restores outputs of settings used before, so one key
    is enough here and keeps the folder bounded.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ordered = rows[COLUMNS].sort_values(COLUMNS[:3], kind="mergesort").reset_index(drop=True)
    with atomic_path(folder / f"{key}.parquet") as tmp:
        ordered.to_parquet(tmp, index=False)
    for stale in folder.glob("*.parquet"):
        if stale.stem != key:
            stale.unlink()
