"""extract samples frames with real ffmpeg, named by video and timestamp."""

from __future__ import annotations

import cv2
import pandas as pd
import pytest

from framehound import tables
from framehound.errors import FramehoundError
from framehound.executor import Inline
from framehound.extract.frames import extract_frames, fit_size
from framehound.extract.run import extract_all
from framehound.params import ExtractParams


def test_frames_are_sampled_at_fps_and_named_by_timestamp(tmp_path, bikes):
    rows = extract_frames(bikes, "bikes", tmp_path, ExtractParams(fps=2, max_frames_per_video=100, max_side=1280,
                                                                    jpeg_qscale=2))
    assert len(rows) == 20  # a 10 s clip at 2 fps
    assert [r["frame_id"] for r in rows[:3]] == ["bikes_0", "bikes_500", "bikes_1000"]
    image = cv2.imread(str(rows[1]["path"]))
    assert image.shape == (272, 640, 3)


def test_frames_are_capped_and_downscaled_never_upscaled(tmp_path, bikes):
    rows = extract_frames(bikes, "b", tmp_path, ExtractParams(
            fps=1, max_frames_per_video=3, max_side=320, jpeg_qscale=5))
    assert len(rows) == 3
    assert (rows[0]["width"], rows[0]["height"]) == (320, 136)
    assert cv2.imread(str(rows[0]["path"])).shape[:2] == (136, 320)
    assert fit_size(176, 144, 1280) == (176, 144)


def test_a_truncated_video_is_skipped_with_its_reason(tmp_path, bikes):
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(bikes.read_bytes()[:200_000])
    with pytest.raises(FramehoundError, match=r"truncated\.mp4: not a readable video"):
        extract_frames(truncated, "t", tmp_path / "out", ExtractParams(1, 10, 640, 2))

    videos = pd.DataFrame([
        {"id": "good", "path": str(bikes)}, {"id": "broken", "path": str(truncated)},
    ]).assign(source="local", webpage_url="", extractor="local", title="", uploader="", channel="", license="",
              upload_date="", duration=10.0, width=640, height=272, fps=25.0, sha256="", fetched_at="", tags="")
    tables.write_table(videos, tmp_path / "videos.csv", tables.VIDEOS)
    params = ExtractParams(fps=1, max_frames_per_video=5, max_side=640, jpeg_qscale=2)
    summary = extract_all(params, tmp_path / "videos.csv", tmp_path / "frames", tmp_path / "extract", Inline())
    assert summary == "5 frames from 1 videos (1 extracted, 0 unchanged), 1 skipped; local, 1 process"
    skipped = tables.read_table(tmp_path / "extract" / "skipped.csv", tables.FAILURES)
    assert list(skipped["target"]) == ["broken"]
    assert "not a readable video" in skipped["reason"][0]
    frames = tables.read_table(tmp_path / "extract" / "frames.parquet", tables.FRAMES)
    assert set(frames["video_id"]) == {"good"}
    assert not (tmp_path / "frames" / "broken").exists()
