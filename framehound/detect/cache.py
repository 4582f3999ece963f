"""Reuse detections of frames already seen with the same model and settings.

Keyed by the sha256 of the frame's JPEG bytes plus a hash of everything that
changes the result (model files, input size, floor, NMS, backend): adding a
video runs inference on its frames only, and changing any setting starts over.
The cache lives in a ``persist: true`` DVC output, which DVC does not delete
before the stage runs.

While detect runs, new rows are committed as ``<key>.part-<n>.parquet`` files
every ``detect.checkpoint_seconds``, so a killed run loses at most that much
inference; the run's end folds everything into one ``<key>.parquet`` whose
bytes depend only on its rows (sorted, fixed types), never on run history.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from framehound import sealed
from framehound.errors import FramehoundError

log = logging.getLogger("framehound")

# Detection columns stored per frame hash; a row with class_id -1 marks a
# frame that was processed and had no detection.
COLUMNS = ["frame_sha256", "class_id", "confidence", "x_min", "y_min", "x_max", "y_max"]
DTYPES = {"frame_sha256": object, "class_id": "int64", "confidence": "float64", "x_min": "float64",
          "y_min": "float64", "x_max": "float64", "y_max": "float64"}


def cache_key(settings: dict[str, Any]) -> str:
    """Short hash of the settings that determine detections."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def empty_cache() -> pd.DataFrame:
    """A cache with no rows."""
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in DTYPES.items()})


def _parts(folder: Path, key: str) -> list[Path]:
    return sorted(folder.glob(f"{key}.part-*.parquet"))


def check_writable(folder: Path) -> None:
    """FramehoundError now, not at the first checkpoint after a minute of inference, if ``folder`` takes no file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe.partial-"):  # debris a kill leaves is swept
            pass
    except OSError as exc:
        raise FramehoundError(f"{folder}: cannot write the detection cache ({exc.strerror or exc}); inference "
                              "would be lost at the first checkpoint") from None


def load_cache(folder: Path, key: str) -> pd.DataFrame:
    """Cached rows for ``key``: the last complete run's plus what a killed run committed.

    A damaged file (unreadable, or its seal wrong) is left out with one line: its frames are inferred again.
    """
    files = [p for p in [folder / f"{key}.parquet", *_parts(folder, key)] if p.is_file()]
    found = []
    for path in files:
        rows = sealed.read_parquet(path)
        if rows is None or not set(COLUMNS) <= set(rows.columns):
            log.warning("%s: damaged (unreadable or not what was written); discarded, its frames are inferred again",
                        path)
            continue
        found.append(rows[COLUMNS])
    return pd.concat([empty_cache(), *found], ignore_index=True).astype(DTYPES)


def save_part(folder: Path, key: str, rows: pd.DataFrame) -> None:
    """Commit ``rows`` (new since the last part) so a killed run keeps them."""
    sealed.write_parquet(rows[COLUMNS].astype(DTYPES).reset_index(drop=True),
                         folder / f"{key}.part-{len(_parts(folder, key)):06d}.parquet")


def save_cache(folder: Path, key: str, rows: pd.DataFrame) -> None:
    """Replace the cache with ``rows`` for ``key``; parts and older keys are dropped.

    The same rows give the same bytes whatever their order or the runs behind
    them (so dvc.lock does not move). DVC's own run-cache restores outputs of
    settings used before, so one key is enough here and keeps the folder bounded.
    """
    ordered = (rows[COLUMNS].astype(DTYPES).drop_duplicates().sort_values(COLUMNS, kind="mergesort")
               .reset_index(drop=True))
    sealed.write_parquet(ordered, folder / f"{key}.parquet")
    for stale in folder.glob("*.parquet"):
        if stale.name != f"{key}.parquet":
            stale.unlink()
