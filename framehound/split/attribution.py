"""attribution.csv: where every image of the dataset came from, and under what license.

One row per image, so a user can credit uploaders, honor licenses, and find
every image of a video when its owner asks for removal.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from framehound.atomic import atomic_path


def timestamp(t_ms: int) -> str:
    """``HH:MM:SS.mmm`` of a position in a video."""
    seconds, ms = divmod(int(t_ms), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula


def as_text(value: str) -> str:
    """``value`` as a spreadsheet shows it but never runs it: a leading ' before a formula's first character."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def write_attribution(path: Path, frames: pd.DataFrame, split_of: dict[str, str], videos: pd.DataFrame) -> None:
    """Write the attribution table for the dataset's frames (a video missing from ``videos`` gets blanks).

    Titles, uploaders, licenses, URLs and sources come from sites and people:
    they go through ``as_text``, so opening the CSV never runs one as a formula.
    """
    provenance = ["webpage_url", "title", "uploader", "license", "source"]
    table = frames.sort_values("frame_id").merge(
        videos.rename(columns={"id": "video_id"})[["video_id", *provenance]], on="video_id", how="left")
    table = table.assign(
        image=[f"images/{split_of[v]}/{f}.jpg" for v, f in zip(table["video_id"], table["frame_id"], strict=True)],
        timestamp=table["t_ms"].map(timestamp),
    )
    table[provenance] = table[provenance].fillna("").astype(str).map(as_text)
    with atomic_path(path) as tmp:
        table[["image", "video_id", "timestamp", *provenance]].fillna("").to_csv(tmp, index=False, lineterminator="\n")
