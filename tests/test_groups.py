"""Re-uploads of one video never land in two splits: videos that share content form one group."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from framehound.extract.frames import extract_frames
from framehound.hashing import sha256_file
from framehound.media.binaries import locate
from framehound.params import ExtractParams, ScreenParams
from framehound.screen.groups import content_groups, links, near_pairs
from framehound.screen.run import group_videos, screen_frames
from framehound.shards import loose_frame_rows
from framehound.split.assign import assign_groups, assign_videos
from tests.conftest import sample_path

SCREEN = ScreenParams(dedup_distance=4, min_sharpness=10)
RATIOS = {"train": 0.6, "val": 0.2, "test": 0.2}


def reencode(source: Path, target: Path, *args: str) -> Path:
    subprocess.run([locate().ffmpeg, "-v", "error", "-y", "-i", str(source), *args, str(target)], check=True)
    return target


@pytest.fixture(scope="module")
def uploads(tmp_path_factory, bikes) -> dict[str, Path]:
    """One street clip uploaded five ways, and two clips of other footage."""
    root = tmp_path_factory.mktemp("uploads")
    videos = {f"bikes-copy{i}": shutil.copyfile(bikes, root / f"copy{i}.mp4") for i in range(2)}
    videos["bikes-small"] = reencode(bikes, root / "small.mp4", "-vf", "scale=320:-2", "-crf", "35")
    videos["bikes-trimmed"] = reencode(bikes, root / "trimmed.mp4", "-ss", "2", "-crf", "28")
    videos["bikes-webm-ish"] = reencode(bikes, root / "other.mkv", "-c:v", "mpeg4", "-q:v", "8")
    videos["carphone"] = sample_path("carphone_pristine.mp4")
    videos["bunny"] = sample_path("bigbuckbunny.mp4")
    return {k: Path(v) for k, v in videos.items()}


@pytest.fixture(scope="module")
def groups(tmp_path_factory, uploads) -> pd.DataFrame:
    root = tmp_path_factory.mktemp("frames")
    rows = [row for video_id, path in uploads.items()
            for row in extract_frames(path, video_id, root / video_id, ExtractParams(2, 40, 640, 2))]
    frames = pd.DataFrame(loose_frame_rows(rows))
    quality = screen_frames(frames, SCREEN)
    videos = pd.DataFrame({"id": list(uploads), "sha256": [sha256_file(p) for p in uploads.values()]})
    return group_videos(quality, videos, SCREEN.dedup_distance).set_index("video_id")


def test_copies_and_reencodes_of_one_video_are_one_group(groups):
    bikes = ["bikes-copy0", "bikes-copy1", "bikes-small", "bikes-trimmed", "bikes-webm-ish"]
    assert set(groups.loc[bikes, "group"]) == {"bikes-copy0"}
    assert "same file with bikes-copy0" in groups.loc["bikes-copy1", "reason"]
    assert "near-duplicate frame pairs with" in groups.loc["bikes-small", "reason"]


def test_other_footage_stays_alone(groups):
    assert groups.loc[["carphone", "bunny"], "group"].tolist() == ["carphone", "bunny"]
    assert groups.loc[["carphone", "bunny"], "reason"].tolist() == ["", ""]


def test_a_group_lands_in_one_split_whatever_the_seed(groups):
    frames = dict.fromkeys(groups.index, 20)
    group_of = groups["group"].to_dict()
    for seed in range(20):
        split_of = assign_groups(frames, group_of, RATIOS, seed)
        assert len({split_of[v] for v in groups.index if v.startswith("bikes")}) == 1, seed
    # without groups the five uploads spread over the splits: the leak this prevents
    assert len({assign_videos(frames, RATIOS, 0)[v] for v in groups.index if v.startswith("bikes")}) > 1


def test_videos_alone_are_assigned_as_before():
    frames = {f"v{i}": 10 + i for i in range(9)}
    assert assign_groups(frames, {v: v for v in frames}, RATIOS, 7) == assign_videos(frames, RATIOS, 7)


def _quality(rows: list[tuple[str, int]]) -> pd.DataFrame:
    return pd.DataFrame([{"frame_id": f"{v}_{i}", "video_id": v, "t_ms": i, "dhash": f"{h:016x}",
                          "sharpness": 50.0, "rejected_by": ""} for i, (v, h) in enumerate(rows)])


def test_flat_frames_do_not_join_videos_and_one_shared_frame_does():
    textured, other = 0x5A5A_F0F0_3C3C_9999, 0x0F0F_A5A5_C3C3_6666
    flat = _quality([("a", 0), ("b", 0), ("a", 2**64 - 1), ("b", 2**64 - 1)])
    assert links(flat, {"a": "1", "b": "2"}, 4) == []
    apart = _quality([("a", textured), ("b", textured ^ 0b11111), ("a", other), ("b", other ^ 0b11111)])
    assert links(apart, {"a": "1", "b": "2"}, 4) == []  # 5 bits apart: not near-duplicates at distance 4
    one = _quality([("a", textured), ("b", textured ^ 0b11), ("a", other), ("b", 0x1234_5678_9ABC_DEF0)])
    assert [(x.video_a, x.video_b, x.reason) for x in links(one, {"a": "1", "b": "2"}, 4)] == [
        ("a", "b", "1 near-duplicate frame pairs")]


def test_an_unknown_file_hash_joins_nothing():
    assert links(_quality([("a", 0x5A5A_F0F0_3C3C_9999), ("b", 0x0F0F_A5A5_C3C3_6666)]), {"a": "", "b": ""}, 4) == []


def test_near_pairs_finds_exactly_the_pairs_within_the_distance():
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, 400, dtype=np.uint64)
    hashes[200:210] = hashes[:10] ^ np.uint64(0b1011)  # 3 bits apart
    hashes[300:305] = hashes[:5] ^ np.uint64(0b11111)  # 5 bits apart: too far for 4
    owners = np.array([i % 7 for i in range(400)])
    found = {tuple(p) for p in near_pairs(hashes, owners, 4)}
    brute = {(i, j) for i in range(400) for j in range(i + 1, 400)
             if owners[i] != owners[j] and bin(int(hashes[i] ^ hashes[j])).count("1") <= 4}
    assert found == brute and {(i, 200 + i) for i in range(10) if owners[i] != owners[200 + i]} <= found


def test_groups_do_not_depend_on_the_order_of_links():
    from framehound.screen.groups import Link

    found = [Link("c", "d", "same file"), Link("b", "c", "2 near-duplicate frame pairs"), Link("e", "a", "same file")]
    forward = content_groups(["a", "b", "c", "d", "e"], found)
    backward = content_groups(["e", "d", "c", "b", "a"], found[::-1])
    assert forward["group"].tolist() == ["a", "b", "b", "b", "a"]
    assert forward.equals(backward)


def test_a_file_fetched_under_two_names_gives_its_images_once(tmp_path, uploads):
    """Same bytes, same frames: the second copy's are duplicates, whatever the near-duplicate rule says."""
    rows = [row for video_id in ("bikes-copy0", "bikes-copy1")
            for row in extract_frames(uploads[video_id], video_id, tmp_path / video_id, ExtractParams(1, 5, 320, 2))]
    quality = screen_frames(pd.DataFrame(loose_frame_rows(rows)), ScreenParams(dedup_distance=None, min_sharpness=0))
    by_video = quality.groupby("video_id")["rejected_by"].agg(lambda r: sorted(set(r))).to_dict()
    assert by_video == {"bikes-copy0": [""], "bikes-copy1": ["duplicate"]}
