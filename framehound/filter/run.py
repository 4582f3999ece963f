"""filter: labels.parquet and frames.parquet of the frames that make the dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framehound import tables
from framehound.atomic import atomic_path
from framehound.darknet.cfg import read_names
from framehound.filter.rules import class_indices, select_labels


def filter_all(params: dict[str, Any], model_dir: Path, frames_parquet: Path,
               detections_parquet: Path, out_dir: Path) -> str:
    """Apply the filter rules and write the kept labels and frames."""
    names = read_names((model_dir / "model.names").read_text(encoding="utf-8"))
    class_indices(params["classes"], names)  # fail on a bad class before reading tables
    frames = tables.read_table(frames_parquet, tables.FRAMES)
    detections = tables.read_table(detections_parquet, tables.DETECTIONS)
    labels, kept = select_labels(detections, frames, params, names)
    with atomic_path(out_dir, directory=True) as staging:
        tables.write_table(labels, staging / "labels.parquet", tables.LABELS)
        tables.write_table(kept, staging / "frames.parquet", tables.FRAMES)
    per_class = labels["class_name"].value_counts().reindex(params["classes"], fill_value=0)
    counts = ", ".join(f"{name} {count}" for name, count in per_class.items())
    return f"kept {len(kept)} of {len(frames)} frames, {len(labels)} boxes ({counts})"
