"""report: data/report/index.html from the outputs of extract, screen, filter and split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from framehound import tables
from framehound.atomic import atomic_path
from framehound.filter.completeness import REASONS, incompleteness
from framehound.params import Params
from framehound.report.page import render
from framehound.report.summary import split_of_videos, summarize
from framehound.report.thumbnails import thumbnail
from framehound.shards import read_jpeg

SHEET_SIZE = 12
EXAMPLES_PER_RULE = 6


def sample_frames(labels: pd.DataFrame, name: str, seed: int) -> list[str]:
    """Up to SHEET_SIZE frames showing class ``name``, drawn with ``seed`` so reruns pick the same ones."""
    return _pick(list(labels.loc[labels["class_name"] == name, "frame_id"]), SHEET_SIZE, seed)


def _jpeg(frame: pd.Series) -> bytes:
    return read_jpeg(frame["shard"], int(frame["offset"]), int(frame["size"]), frame["sha256"])


def _pick(frame_ids: list[str], count: int, seed: int) -> list[str]:
    """Up to ``count`` of ``frame_ids`` (sorted, unique), drawn with ``seed`` so reruns pick the same ones."""
    candidates = sorted(set(frame_ids))
    chosen = np.random.default_rng(seed).choice(len(candidates), size=min(count, len(candidates)), replace=False)
    return [candidates[i] for i in sorted(chosen)]


def report_all(params: Params, extract_frames: Path, quality: Path, filter_dir: Path,
               attribution: Path, label_quality: Path, threshold_sweep: Path, out_dir: Path,
               detect_runtime: Path) -> str:
    """Write ``out_dir/index.html`` atomically; frame paths in the tables are relative to the cwd.

    ``detect_runtime`` (detect's ``runtime.json``): shown beside the detect params, so a dataset that
    changed with the machine says which runtime made it (absent from detect outputs made before it existed).
    """
    classes = params.filter.dataset_classes
    frames = tables.read_table(filter_dir / "frames.parquet", tables.FRAMES)
    labels = tables.read_table(filter_dir / "labels.parquet", tables.LABELS)
    unlabelled = tables.read_table(filter_dir / "unlabelled.parquet", tables.UNLABELLED)
    sampled = tables.read_table(extract_frames, tables.FRAMES)
    summary = summarize(sampled, tables.read_table(quality, tables.QUALITY),
                        frames, labels, split_of_videos(pd.read_csv(attribution, dtype=str)), classes)
    where = sampled.set_index("frame_id")
    seed = params.split.seed

    masked = unlabelled[unlabelled["outcome"] == "masked"]

    def drawn(frame_id: str, missing: pd.DataFrame | None = None) -> str:
        return thumbnail(_jpeg(where.loc[frame_id]), f"{where.loc[frame_id, 'shard']}: frame {frame_id}",
                         labels[labels["frame_id"] == frame_id], missing, masked[masked["frame_id"] == frame_id])

    sheets = {name: [drawn(f) for f in sample_frames(labels, name, seed)] for name in classes}
    incomplete_sheet = [drawn(f, unlabelled[unlabelled["frame_id"] == f])
                        for f in _pick(list(unlabelled["frame_id"]), SHEET_SIZE, seed)]
    rule_examples = {reason: [drawn(f, unlabelled[(unlabelled["frame_id"] == f) & (unlabelled["reason"] == reason)])
                              for f in _pick(list(unlabelled.loc[unlabelled["reason"] == reason, "frame_id"]),
                                             EXAMPLES_PER_RULE, seed)]
                     for reason in REASONS}
    shown = {k: v for k, v in params.as_dict().items()
             if k in ("model", "extract", "screen", "detect", "filter", "split", "evaluate")}
    shown["fetch"] = {"sources": params.as_dict()["fetch"]["sources"]}
    if detect_runtime.is_file():
        shown["detect"] = {**shown["detect"], "ran": json.loads(detect_runtime.read_text(encoding="utf-8"))}
    curve = tables.read_table(threshold_sweep, tables.SWEEP)
    page = render(summary, sheets, shown, json.loads(label_quality.read_text(encoding="utf-8")), curve,
                  incompleteness(unlabelled, params.filter.incomplete, labels, frames), incomplete_sheet, rule_examples)
    with atomic_path(out_dir, directory=True) as staging:
        (staging / "index.html").write_text(page, encoding="utf-8")
    return f"{len(frames)} images, {len(labels)} boxes in {out_dir / 'index.html'}"
