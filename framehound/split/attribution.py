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


def write_attribution(path: Path, frames: pd.DataFrame, split_of: dict[str, str], videos: pd.DataFrame) -> None:
    """Write the attribution table for the dataset's frames."""
    by_video = videos.set_index("id")
    rows = []
    for frame in frames.sort_values("frame_id").itertuples(index=False):
        video = by_video.loc[frame.video_id] if frame.video_id in by_video.index else None
        split = split_of[frame.video_id]

        def field(name: str, video: pd.Series | None = video) -> str:
            return "" if video is None else str(video[name])

        rows.append({"image": f"images/{split}/{frame.frame_id}.jpg", "video_id": frame.video_id,
                     "timestamp": timestamp(frame.t_ms), "webpage_url": field("webpage_url"),
                     "title": field("title"), "uploader": field("uploader"), "license": field("license"),
                     "source": field("source")})
    columns = ["image", "video_id", "timestamp", "webpage_url", "title", "uploader", "license", "source"]
    with atomic_path(path) as tmp:
        pd.DataFrame(rows, columns=columns).to_csv(tmp, index=False, lineterminator="\n")
