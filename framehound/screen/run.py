"""screen: the frames worth running the detector on."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from framehound import sealed, tables
from framehound.atomic import atomic_path, write_json
from framehound.executor import Executor, Inline
from framehound.params import ScreenParams
from framehound.screen.groups import content_groups, links
from framehound.screen.quality import near_duplicates
from framehound.screen.work import MeasureTask, measure_frames
from framehound.shards import frame_ranges, read_jpeg

log = logging.getLogger("framehound")


def measure_all(frames: pd.DataFrame, known: pd.DataFrame, executor: Executor, ship: bool = False) -> pd.DataFrame:
    """The measures table for ``frames``: ``known`` rows reused, the rest measured one video a task.

    ``ship`` sends the JPEG bytes instead of paths (workers without the checkout).
    """
    todo = frames[~frames["sha256"].isin(known["sha256"])].drop_duplicates("sha256")
    groups = [group for _, group in todo.groupby("video_id", sort=True)]
    ranges = [tuple(frame_ranges(g)) for g in groups]
    tasks = [MeasureTask(jpegs=tuple(read_jpeg(*r) for r in rs)) if ship else MeasureTask(ranges=rs)
             for rs in ranges]
    results = executor.map(measure_frames, tasks, desc="screen", unit="video")
    # Built by column (not from tuples) so the dtypes, and so the parquet bytes, equal a cached read's.
    measured = [pd.DataFrame({"sha256": list(group["sha256"]), "dhash": [r[0] for r in result],
                              "sharpness": [r[1] for r in result]})
                for group, result in zip(groups, results, strict=True)]
    parts = [part for part in (known[known["sha256"].isin(frames["sha256"])], *measured) if len(part)]
    if not parts:
        return tables.empty(tables.MEASURES)
    # Empty parts are left out: their object columns would change the dtypes, and so the parquet bytes.
    return pd.concat(parts, ignore_index=True)[list(tables.MEASURES.columns)]


def screen_frames(frames: pd.DataFrame, params: ScreenParams, measures: pd.DataFrame | None = None) -> pd.DataFrame:
    """The quality table: hash, sharpness and the rule (if any) rejecting each frame.

    Blur is checked first, so a blurry frame never becomes the kept
    representative of a run of duplicates. A JPEG already kept in an earlier
    video (by id; the same file fetched under two names) is a duplicate too,
    whatever ``dedup_distance`` says: the dataset holds each image once.
    """
    if measures is None:
        measures = measure_all(frames, tables.empty(tables.MEASURES), Inline())
    quality = frames[["frame_id", "video_id", "t_ms", "sha256"]].merge(measures, on="sha256", how="left")
    quality = quality.drop(columns="sha256").set_index(frames.index)
    quality["rejected_by"] = ""
    quality.loc[quality["dhash"] == "", "rejected_by"] = "undecodable"
    if params.min_sharpness > 0:
        blurry = (quality["rejected_by"] == "") & (quality["sharpness"] < params.min_sharpness)
        quality.loc[blurry, "rejected_by"] = "blur"
    if params.dedup_distance is not None:
        quality = quality.sort_values(["video_id", "t_ms"], kind="mergesort")
        for _, group in quality[quality["rejected_by"] == ""].groupby("video_id", sort=True):
            hashes = np.array([int(h, 16) for h in group["dhash"]], dtype=np.uint64)
            quality.loc[group.index[near_duplicates(hashes, params.dedup_distance)], "rejected_by"] = "duplicate"
    order = quality.sort_values(["video_id", "t_ms"], kind="mergesort").index
    kept = order[quality.loc[order, "rejected_by"] == ""]
    quality.loc[kept[frames.loc[kept, "sha256"].duplicated().to_numpy()], "rejected_by"] = "duplicate"
    return quality


def group_videos(quality: pd.DataFrame, videos: pd.DataFrame, dedup_distance: int | None) -> pd.DataFrame:
    """The groups table: videos with the same file or shared near-duplicate frames are one group.

    With ``dedup_distance`` null (no near-duplicate rule), frames must hash equal to count as shared.
    """
    sha256_of = dict(zip(videos["id"], videos["sha256"], strict=True))
    found = links(quality, sha256_of, dedup_distance or 0)
    return content_groups(sorted(set(videos["id"]) | set(quality["video_id"])), found)


def _read_measures(cache: Path) -> pd.DataFrame:
    """The cached measures; none when there is no cache, or (with one line) when it is damaged."""
    found = sealed.read_parquet(cache) if cache.is_file() else None
    if found is not None and set(tables.MEASURES.columns) <= set(found.columns):
        return found[list(tables.MEASURES.columns)]
    if cache.is_file():
        log.warning("%s: damaged (unreadable or not what was written); discarded, its frames are measured again",
                    cache)
    return tables.empty(tables.MEASURES)


def screen_all(params: ScreenParams, frames_parquet: Path, videos_csv: Path, out_dir: Path, cache_dir: Path,
               metrics_path: Path, executor: Executor, ship: bool = False) -> str:
    """Write the kept frames, the quality and groups tables and the rejection counts.

    ``cache_dir`` keeps the measurements by JPEG content across runs: only new frames are read.
    """
    frames = tables.read_table(frames_parquet, tables.FRAMES)
    cache = cache_dir / "measures.parquet"
    known = _read_measures(cache)
    measures = measure_all(frames, known, executor, ship)
    quality = screen_frames(frames, params, measures)
    groups = group_videos(quality, tables.read_table(videos_csv, tables.VIDEOS), params.dedup_distance)
    kept = frames[frames["frame_id"].isin(quality.loc[quality["rejected_by"] == "", "frame_id"])]
    counts = {rule: int((quality["rejected_by"] == rule).sum()) for rule in ("blur", "duplicate", "undecodable")}
    with atomic_path(out_dir, directory=True) as staging:
        tables.write_table(kept, staging / "frames.parquet", tables.FRAMES)
        tables.write_table(quality, staging / "quality.parquet", tables.QUALITY)
        tables.write_table(groups, staging / "groups.parquet", tables.GROUPS)
    sealed.write_parquet(tables.in_order(measures, tables.MEASURES), cache)
    grouped = int((groups["reason"] != "").sum())
    metrics = {"frames_in": len(frames), "frames_kept": len(kept), "rejected": counts,
               "videos_sharing_content": grouped}
    write_json(metrics_path, metrics)
    shared = f"; {grouped} videos share content with another (data/screen/groups.parquet)" if grouped else ""
    fresh = len(measures) - int(known["sha256"].isin(frames["sha256"]).sum())
    return (f"kept {len(kept)} of {len(frames)} frames ({counts['duplicate']} near-duplicates, "
            f"{counts['blur']} blurry: inference saved on {len(frames) - len(kept)}){shared}; "
            f"{fresh} frames measured, {len(measures) - fresh} from the cache; {executor.where}")
