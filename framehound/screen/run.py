"""screen: the frames worth running the detector on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from framehound import tables
from framehound.atomic import atomic_path, write_json
from framehound.params import ScreenParams
from framehound.progress import progress
from framehound.screen.groups import content_groups, links
from framehound.screen.quality import measure, near_duplicates


def screen_frames(frames: pd.DataFrame, params: ScreenParams) -> pd.DataFrame:
    """The quality table: hash, sharpness and the rule (if any) rejecting each frame.

    Blur is checked first, so a blurry frame never becomes the kept
    representative of a run of duplicates.
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        measured = list(progress(pool.map(measure, frames["path"]), desc="screen",
                                 total=len(frames), unit="frame"))
    quality = frames[["frame_id", "video_id", "t_ms"]].copy()
    quality["dhash"] = [f"{m[0]:016x}" if m else "" for m in measured]
    quality["sharpness"] = [round(m[1], 2) if m else 0.0 for m in measured]
    quality["rejected_by"] = ""
    quality.loc[[m is None for m in measured], "rejected_by"] = "undecodable"
    if params.min_sharpness > 0:
        blurry = (quality["rejected_by"] == "") & (quality["sharpness"] < params.min_sharpness)
        quality.loc[blurry, "rejected_by"] = "blur"
    if params.dedup_distance is not None:
        quality = quality.sort_values(["video_id", "t_ms"], kind="mergesort")
        for _, group in quality[quality["rejected_by"] == ""].groupby("video_id", sort=True):
            hashes = np.array([int(h, 16) for h in group["dhash"]], dtype=np.uint64)
            quality.loc[group.index[near_duplicates(hashes, params.dedup_distance)], "rejected_by"] = "duplicate"
    return quality


def group_videos(quality: pd.DataFrame, videos: pd.DataFrame, dedup_distance: int | None) -> pd.DataFrame:
    """The groups table: videos with the same file or shared near-duplicate frames are one group.

    With ``dedup_distance`` null (no near-duplicate rule), frames must hash equal to count as shared.
    """
    sha256_of = dict(zip(videos["id"], videos["sha256"], strict=True))
    found = links(quality, sha256_of, dedup_distance or 0)
    return content_groups(sorted(set(videos["id"]) | set(quality["video_id"])), found)


def screen_all(params: ScreenParams, frames_parquet: Path, videos_csv: Path, out_dir: Path,
               metrics_path: Path) -> str:
    """Write the kept frames, the quality and groups tables and the rejection counts."""
    frames = tables.read_table(frames_parquet, tables.FRAMES)
    quality = screen_frames(frames, params)
    groups = group_videos(quality, tables.read_table(videos_csv, tables.VIDEOS), params.dedup_distance)
    kept = frames[frames["frame_id"].isin(quality.loc[quality["rejected_by"] == "", "frame_id"])]
    counts = {rule: int((quality["rejected_by"] == rule).sum()) for rule in ("blur", "duplicate", "undecodable")}
    with atomic_path(out_dir, directory=True) as staging:
        tables.write_table(kept, staging / "frames.parquet", tables.FRAMES)
        tables.write_table(quality, staging / "quality.parquet", tables.QUALITY)
        tables.write_table(groups, staging / "groups.parquet", tables.GROUPS)
    grouped = int((groups["reason"] != "").sum())
    metrics = {"frames_in": len(frames), "frames_kept": len(kept), "rejected": counts,
               "videos_sharing_content": grouped}
    write_json(metrics_path, metrics)
    shared = f"; {grouped} videos share content with another (data/screen/groups.parquet)" if grouped else ""
    return (f"kept {len(kept)} of {len(frames)} frames ({counts['duplicate']} near-duplicates, "
            f"{counts['blur']} blurry: inference saved on {len(frames) - len(kept)}){shared}")
