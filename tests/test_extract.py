"""extract samples frames with real ffmpeg, named by video and timestamp."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import cv2
import pandas as pd
import pytest

from framehound import tables
from framehound.errors import FramehoundError
from framehound.executor import Inline
from framehound.extract.frames import extract_frames, fit_size
from framehound.extract.run import extract_all
from framehound.media.binaries import locate
from framehound.media.probe import probe_video
from framehound.params import ExtractParams
from tests.conftest import sample_path


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
    assert [r["t_ms"] for r in rows] == [0, 3334, 6668]  # the cap spread over the 10 s: every ceil(10000 / 3) ms
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
    assert summary == ("5 frames from 1 videos (1 extracted, 0 unchanged, 1 spread over their whole length), "
                       "1 skipped; local, 1 process")
    skipped = tables.read_table(tmp_path / "extract" / "skipped.csv", tables.FAILURES)
    assert list(skipped["target"]) == ["broken"]
    # fetch measured its size, so ffmpeg itself finds it broken: one line, the file and ffmpeg's reason
    reason = skipped["reason"][0]
    assert reason.startswith(f"{truncated}: ffmpeg could not decode it (") and "Invalid data" in reason
    assert "\n" not in reason
    frames = tables.read_table(tmp_path / "extract" / "frames.parquet", tables.FRAMES)
    assert set(frames["video_id"]) == {"good"}
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == ["good.zip"]


def test_a_long_video_is_sampled_whole_when_the_cap_would_cut_it_and_the_summary_says_so(tmp_path):
    """20 minutes at extract.fps 1 is 1200 frames; a cap of 10 gives one every 2 minutes, not the first 10 s."""
    clip = tmp_path / "long.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=1:duration=1200", "-c:v", "libx264", "-g", "10",
            str(clip))
    params = ExtractParams(fps=1, max_frames_per_video=10, max_side=64, jpeg_qscale=2)
    videos = pd.DataFrame([{c: "" for c in tables.VIDEOS.columns} | {"id": "long", "path": str(clip),
                                                                     "duration": 1200.0, "width": 64, "height": 48}])
    tables.write_table(videos, tmp_path / "videos.csv", tables.VIDEOS)
    summary = extract_all(params, tmp_path / "videos.csv", tmp_path / "frames", tmp_path / "extract", Inline())
    assert summary.startswith("10 frames from 1 videos (1 extracted, 0 unchanged, 1 spread over their whole length)")
    frames = tables.read_table(tmp_path / "extract" / "frames.parquet", tables.FRAMES)
    assert sorted(frames["t_ms"]) == [i * 120_000 for i in range(10)]
    assert extract_frames(clip, "long", tmp_path / "probed", params)[-1]["t_ms"] == 1_080_000  # no fetch record


def _color_of(row: dict) -> str:
    """The colour a frame is filled with: 'red' or 'blue' (BGR means)."""
    blue, _, red = cv2.imread(str(row["path"])).reshape(-1, 3).mean(axis=0)
    return "red" if red > blue else "blue"


@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_with_several_video_streams_size_rate_and_pixels_come_from_the_one_stream_ffmpeg_picks(tmp_path, container):
    """A red 64x64 cover picture first (marked as attached in mp4), a blue 320x240 25 fps video second:
    fetch's probe and extract both take the video, never the cover, nor the size of one and the pixels of the other."""
    _ffmpeg("-f", "lavfi", "-i", "color=red:size=64x64:duration=1", "-frames:v", "1", str(tmp_path / "cover.png"))
    clip = tmp_path / f"covered.{container}"
    _ffmpeg("-i", str(tmp_path / "cover.png"), "-f", "lavfi", "-i", "color=blue:size=320x240:rate=25:duration=4",
            "-map", "0", "-map", "1", "-c:v:0", "png", "-c:v:1", "libx264", "-disposition:v:0", "attached_pic",
            str(clip))
    info = probe_video(clip)
    assert (info.width, info.height, info.fps, info.codec) == (320, 240, 25.0, "h264")
    rows = extract_frames(clip, "c", tmp_path / "out", ExtractParams(1, 10, 640, 2), (info.width, info.height))
    assert len(rows) == 4 and {_color_of(r) for r in rows} == {"blue"}
    assert cv2.imread(str(rows[0]["path"])).shape == (240, 320, 3)


def test_two_real_video_streams_give_the_size_and_rate_of_the_same_one(tmp_path):
    clip = tmp_path / "two.mkv"
    _ffmpeg("-f", "lavfi", "-i", "color=red:size=160x120:rate=10:duration=4", "-f", "lavfi", "-i",
            "color=blue:size=320x240:rate=25:duration=4", "-map", "0", "-map", "1", "-c:v", "libx264", str(clip))
    info = probe_video(clip)
    assert (info.width, info.height, info.fps) in {(160, 120, 10.0), (320, 240, 25.0)}
    colour = "red" if info.width == 160 else "blue"
    rows = extract_frames(clip, "t", tmp_path / "out", ExtractParams(1, 10, 640, 2), (info.width, info.height))
    assert {_color_of(r) for r in rows} == {colour}


def test_a_clip_shorter_than_half_a_sampling_period_still_gives_its_first_frame(tmp_path):
    """0.08 s at extract.fps 4 (a period of 0.25 s): ffmpeg's fps filter alone writes nothing for it."""
    clip = tmp_path / "blink.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=0.08", "-c:v", "libx264", str(clip))
    rows = extract_frames(clip, "blink", tmp_path / "out", ExtractParams(4, 300, 64, 2))
    assert [r["frame_id"] for r in rows] == ["blink_0"]


# keyframes and scenes modes, on clips whose keyframes and cuts are known because they were made so.

def _ffmpeg(*args: str) -> None:
    subprocess.run([locate().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def keyframes_every_2s(tmp_path_factory, bikes) -> Path:
    """The 10 s bikes clip re-encoded with a keyframe at 0, 2, 4, 6 and 8 s and none elsewhere."""
    clip = tmp_path_factory.mktemp("clips") / "keyframes.mp4"
    _ffmpeg("-i", str(bikes), "-an", "-c:v", "libx264", "-preset", "ultrafast", "-g", "1000", "-sc_threshold", "0",
            "-force_key_frames", "expr:gte(t,n_forced*2)", str(clip))
    return clip


@pytest.fixture(scope="module")
def cuts_at_2s_and_4s(tmp_path_factory, bikes) -> Path:
    """Three 2 s shots of real footage, none with a cut inside: Big Buck Bunny, bikes (3.2-5.2 s), carphone."""
    clip = tmp_path_factory.mktemp("clips") / "cuts.mp4"
    shot = "fps=25,scale=640:272,setsar=1,setpts=PTS-STARTPTS"
    _ffmpeg("-i", str(sample_path("bigbuckbunny.mp4")), "-i", str(bikes),
            "-i", str(sample_path("carphone_pristine.mp4")),
            "-filter_complex", f"[0:v]trim=0:2,{shot}[a];[1:v]trim=3.2:5.2,{shot}[b];[2:v]trim=0:2,{shot}[c];"
                               "[a][b][c]concat=n=3:v=1:a=0[v]",
            "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", str(clip))
    return clip


def _settings(mode: str, **changes) -> ExtractParams:
    return dataclasses.replace(ExtractParams(fps=1, max_frames_per_video=100, max_side=320, jpeg_qscale=2,
                                             mode=mode), **changes)


def _near(times_ms: list[int], expected_ms: list[int]) -> bool:
    """Each time within one frame (40 ms at 25 fps) of the expected one."""
    if len(times_ms) != len(expected_ms):
        return False
    return all(abs(t - e) < 40 for t, e in zip(times_ms, expected_ms, strict=True))


def test_keyframes_mode_writes_exactly_the_keyframes_named_by_their_timestamps(tmp_path, keyframes_every_2s):
    rows = extract_frames(keyframes_every_2s, "k", tmp_path, _settings("keyframes"))
    assert _near([r["t_ms"] for r in rows], [0, 2000, 4000, 6000, 8000])
    assert [r["frame_id"] for r in rows] == [f"k_{r['t_ms']}" for r in rows]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{r['frame_id']}.jpg" for r in rows)
    assert cv2.imread(str(rows[1]["path"])).shape == (136, 320, 3)


def test_keyframes_mode_spreads_max_frames_per_video_over_the_whole_video(tmp_path, keyframes_every_2s):
    rows = extract_frames(keyframes_every_2s, "k", tmp_path, _settings("keyframes", max_frames_per_video=3))
    assert _near([r["t_ms"] for r in rows], [0, 4000, 8000])  # of the keyframes at 0, 2, 4, 6 and 8 s


def test_scenes_mode_writes_the_first_frame_and_one_frame_at_each_cut(tmp_path, cuts_at_2s_and_4s):
    rows = extract_frames(cuts_at_2s_and_4s, "s", tmp_path, _settings("scenes"))
    assert _near([r["t_ms"] for r in rows], [0, 2000, 4000])


def test_a_scene_threshold_no_change_exceeds_keeps_only_the_first_frame(tmp_path, cuts_at_2s_and_4s):
    rows = extract_frames(cuts_at_2s_and_4s, "s", tmp_path, _settings("scenes", scene_threshold=1.0))
    assert [r["t_ms"] for r in rows] == [0]


@pytest.mark.parametrize("mode", ["keyframes", "scenes"])
def test_timestamps_count_from_the_video_streams_first_frame(tmp_path, keyframes_every_2s, mode):
    """The file starts with its audio; the video 0.5 s later (ffmpeg's timeline shows 500, 2500, ...)."""
    clip = tmp_path / "late_video.mp4"
    _ffmpeg("-itsoffset", "0.5", "-i", str(keyframes_every_2s), "-f", "lavfi", "-i", "sine=duration=10.5",
            "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", str(clip))
    late = extract_frames(clip, "v", tmp_path / "late", _settings(mode))
    on_time = extract_frames(keyframes_every_2s, "v", tmp_path / "on_time", _settings(mode))
    assert late[0]["t_ms"] == 0
    assert [r["t_ms"] for r in late] == [r["t_ms"] for r in on_time]


@pytest.mark.parametrize("mode", ["fps", "keyframes", "scenes"])
def test_every_mode_gives_unique_increasing_ids_and_the_same_bytes_every_run(tmp_path, mode, bikes):
    first, second = (extract_frames(bikes, "b", tmp_path / run, _settings(mode)) for run in ("one", "two"))
    times = [r["t_ms"] for r in first]
    assert len(first) > 1 and times == sorted(set(times))
    assert [{**r, "path": r["path"].name} for r in first] == [{**r, "path": r["path"].name} for r in second]
    assert all(r["path"].read_bytes() == s["path"].read_bytes() for r, s in zip(first, second, strict=True))


def test_frames_on_the_same_millisecond_keep_the_first_only(tmp_path):
    """20 keyframes 0.5 ms apart: 0, 0.5, 1.0 ... 9.5 ms round to 11 distinct milliseconds."""
    clip = tmp_path / "fast.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=rate=2000:size=64x64:duration=0.01", "-c:v", "libx264", "-g", "1",
            "-video_track_timescale", "100000", str(clip))
    rows = extract_frames(clip, "f", tmp_path / "all", _settings("keyframes"))
    assert [r["t_ms"] for r in rows] == sorted({round(i / 2) for i in range(20)})
    assert len(list((tmp_path / "all").iterdir())) == len(rows)
    alone = extract_frames(clip, "f", tmp_path / "first", _settings("keyframes", max_frames_per_video=1))
    assert rows[0]["sha256"] == alone[0]["sha256"]
