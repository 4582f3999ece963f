"""report: data/report/index.html from the outputs of extract, screen, filter and split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from framehound import tables
from framehound.atomic import atomic_path
from framehound.params import Params
from framehound.report.page import render
from framehound.report.summary import split_of_videos, summarize
from framehound.report.thumbnails import thumbnail
from framehound.shards import read_jpeg

SHEET_SIZE = 12


def sample_frames(labels: pd.DataFrame, name: str, seed: int) -> list[str]:
    """Up to SHEET_SIZE frames showing class ``name``, drawn with ``seed`` so reruns pick the same ones."""
    candidates = sorted(set(labels.loc[labels["class_name"] == name, "frame_id"]))
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(candidates), size=min(SHEET_SIZE, len(candidates)), replace=False)
    return [candidates[i] for i in sorted(picked)]


def _jpeg(frame: pd.Series) -> bytes:
    return read_jpeg(frame["shard"], int(frame["offset"]), int(frame["size"]), frame["sha256"])


def report_all(params: Params, extract_frames: Path, quality: Path, filter_dir: Path,
               attribution: Path, out_dir: Path) -> str:
    """Write ``out_dir/index.html`` atomically; frame paths in the tables are relative to the cwd."""
    classes = params.filter.dataset_classes
    frames = tables.read_table(filter_dir / "frames.parquet", tables.FRAMES)
    labels = tables.read_table(filter_dir / "labels.parquet", tables.LABELS)
    summary = summarize(tables.read_table(extract_frames, tables.FRAMES), tables.read_table(quality, tables.QUALITY),
                        frames, labels, split_of_videos(pd.read_csv(attribution, dtype=str)), classes)
    where = frames.set_index("frame_id")
    seed = params.split.seed
    sheets = {name: [thumbnail(_jpeg(where.loc[f]), f"{where.loc[f, 'shard']}: frame {f}",
                               labels[labels["frame_id"] == f])
                     for f in sample_frames(labels, name, seed)] for name in classes}
    shown = {k: v for k, v in params.as_dict().items() if k in ("extract", "screen", "detect", "filter", "split")}
    with atomic_path(out_dir, directory=True) as staging:
        (staging / "index.html").write_text(render(summary, sheets, shown), encoding="utf-8")
    return f"{len(frames)} images, {len(labels)} boxes in {out_dir / 'index.html'}"
