"""split: data/dataset/, metrics/dataset.json and plot data from the filtered frames."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from framehound import tables
from framehound.atomic import atomic_path, write_json
from framehound.boxes import boxes_by_frame
from framehound.errors import FramehoundError
from framehound.params import SplitParams
from framehound.split.assign import SPLITS, assign_groups
from framehound.split.attribution import write_attribution
from framehound.split.export import write_dataset
from framehound.split.held import left_out_by_policy
from framehound.split.metrics import dataset_metrics, plot_tables, write_plots

log = logging.getLogger("framehound")


def _rejections(stage_metrics: list[Path]) -> dict[str, int]:
    """Rejections per rule from the screen and filter stages' metrics, in one place."""
    merged: dict[str, int] = {}
    for path in stage_metrics:
        merged |= json.loads(path.read_text(encoding="utf-8"))["rejected"]
    return dict(sorted(merged.items()))


def split_all(params: SplitParams, classes: list[str], filter_dir: Path, videos_csv: Path, groups_parquet: Path,
              dataset_dir: Path, metrics_path: Path, plots_dir: Path,
              stage_metrics: tuple[Path, ...] = (), base_model: Path | None = None) -> str:
    """Assign whole groups of videos that share content to splits and write the dataset atomically.

    ``base_model``: the model folder Darknet's files start training from (split.formats darknet).
    """
    frames = tables.read_table(filter_dir / "frames.parquet", tables.FRAMES)
    labels = tables.read_table(filter_dir / "labels.parquet", tables.LABELS)
    unlabelled = tables.read_table(filter_dir / "unlabelled.parquet", tables.UNLABELLED)
    left_out = left_out_by_policy(unlabelled)
    if frames.empty and not left_out:
        raise FramehoundError(
            "filter kept no frames: lower filter.min_confidence / filter.min_box_area "
            "or add sources that show filter.classes"
        )
    ratios = {s: getattr(params, s) for s in SPLITS}
    groups = tables.read_table(groups_parquet, tables.GROUPS)
    group_of = dict(zip(groups["video_id"], groups["group"], strict=True))
    split_of = assign_groups(frames.groupby("video_id").size().to_dict(), group_of, ratios, params.seed)
    masks = boxes_by_frame(unlabelled[unlabelled["outcome"] == "masked"])
    with atomic_path(dataset_dir, directory=True) as staging:
        write_dataset(staging, frames, labels, split_of, classes, params.formats, masks, base_model)
        write_attribution(staging / "attribution.csv", frames, split_of,
                          tables.read_table(videos_csv, tables.VIDEOS))
    members: dict[str, list[str]] = {}
    for video in sorted(split_of):
        members.setdefault(group_of.get(video, video), []).append(video)
    shared = {g: videos for g, videos in sorted(members.items()) if len(videos) > 1}
    metrics = dataset_metrics(frames, labels, split_of, classes) | {"rejected": _rejections(list(stage_metrics)),
                                                                     "videos_kept_together": shared}
    write_json(metrics_path, metrics)
    write_plots(plots_dir, plot_tables(frames, labels, classes))
    if shared:
        log.warning("%d videos share content with others and were kept in one split per group: %s",
                    sum(map(len, shared.values())), "; ".join(", ".join(m) for m in shared.values()))
    images = metrics["images"]
    empty = [s for s in SPLITS if ratios[s] > 0 and images[s] == 0]
    if frames.empty:
        log.warning("the dataset is empty: %s", left_out)
    elif empty:
        log.warning("%s empty: only %d video(s) have labels and splits are by video",
                    "/".join(empty), len(split_of))
    return " / ".join(f"{s} {images[s]}" for s in SPLITS) + f" images in {dataset_dir}"
