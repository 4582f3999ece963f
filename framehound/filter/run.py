"""filter: labels.parquet and frames.parquet of the frames that make the dataset."""

from __future__ import annotations

from pathlib import Path

from framehound import tables
from framehound.atomic import atomic_path, write_json
from framehound.darknet.cfg import read_names
from framehound.decisions.log import DECISIONS_PATH, contents, unchanged_since
from framehound.filter.completeness import incompleteness
from framehound.filter.decisions import apply_decisions
from framehound.filter.rules import class_indices, select
from framehound.params import FilterParams


def filter_all(params: FilterParams, model_dir: Path, frames_parquet: Path,
               detections_parquet: Path, out_dir: Path, metrics_path: Path,
               decisions_path: Path = DECISIONS_PATH) -> str:
    """Apply the filter rules, then people's decisions; write the kept labels and frames and the counts."""
    seen = contents(decisions_path)
    names = read_names((model_dir / "model.names").read_text(encoding="utf-8"))
    class_indices(params.classes, names, params.new_classes)  # fail on a bad class before reading tables
    frames = tables.read_table(frames_parquet, tables.FRAMES)
    detections = tables.read_table(detections_parquet, tables.DETECTIONS)
    selection, review, not_applied = apply_decisions(select(detections, frames, params, names), frames,
                                                     decisions_path, params)
    with atomic_path(out_dir, directory=True) as staging:
        tables.write_table(selection.labels, staging / "labels.parquet", tables.LABELS)
        tables.write_table(selection.frames, staging / "frames.parquet", tables.FRAMES)
        tables.write_table(selection.unlabelled, staging / "unlabelled.parquet", tables.UNLABELLED)
    incomplete = incompleteness(selection.unlabelled, params.incomplete, selection.labels, selection.frames)
    metrics = {"frames_in": len(frames), "frames_kept": len(selection.frames),
               "negatives": selection.negatives, "boxes_kept": len(selection.labels),
               "rejected": selection.rejected, "incomplete": incomplete, "review": review}
    write_json(metrics_path, metrics)
    unchanged_since(decisions_path, seen)
    per_class = selection.labels["class_name"].value_counts().reindex(params.dataset_classes, fill_value=0)
    counts = ", ".join(f"{name} {count}" for name, count in per_class.items())
    outcomes = ", ".join(f"{n} {o}" for o, n in incomplete["images"].items() if n) or "none"
    held = incomplete["images"]["held"]
    todo = (f"; {held} image(s) held out until a person decides: run `framehound review` (held frames come first) "
            "or set filter.incomplete: mask" if held else "")
    return (f"kept {len(selection.frames)} of {len(frames)} frames ({selection.negatives} negatives), "
            f"{len(selection.labels)} boxes ({counts}); incomplete images: {outcomes}; "
            f"{review['frames_reviewed']} frames reviewed by people{todo}{'; ' if not_applied else ''}{not_applied}")

