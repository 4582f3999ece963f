"""Each stage pays only for what changed, and where the work runs never changes a byte.

Incremental: extract keeps one stamped folder a video, screen its
measurements by JPEG content. Executors: inline, a local process pool, and a
real Ray runtime (2 CPUs) running the whole pipeline through `dvc repro`.
"""

from __future__ import annotations

import multiprocessing
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

from framehound import tables
from framehound.errors import FramehoundError
from framehound.executor import Inline, LocalPool, RayCluster
from framehound.extract.run import extract_all
from framehound.hashing import sha256_file
from framehound.params import ExtractParams, ScreenParams
from framehound.screen.run import screen_all
from tests.conftest import REPO, run
from tests.test_pipeline import _tracked_files, stages_run

PARAMS = ExtractParams(fps=2, max_frames_per_video=8, max_side=320, jpeg_qscale=2)


def _videos(root: Path, clips: dict[str, Path]) -> Path:
    rows = [{"id": vid, "path": str(path), "sha256": sha256_file(path)} for vid, path in clips.items()]
    videos = pd.DataFrame(rows).assign(source="local", webpage_url="", extractor="local", title="", uploader="",
                                       channel="", license="", upload_date="", duration=10.0, width=640, height=272,
                                       fps=25.0, fetched_at="", tags="")
    tables.write_table(videos, root / "videos.csv", tables.VIDEOS)
    return root / "videos.csv"


def _trimmed(bikes: Path, target: Path, start: int) -> Path:
    from framehound.media.binaries import locate
    subprocess.run([locate().ffmpeg, "-v", "error", "-ss", str(start), "-i", str(bikes), "-t", "3", "-an",
                    "-c:v", "libx264", "-y", str(target)], check=True)
    return target


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clips(tmp_path_factory, bikes) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {"a": bikes, "b": _trimmed(bikes, folder / "b.mp4", 2), "c": _trimmed(bikes, folder / "c.mp4", 5)}


def test_adding_a_video_extracts_only_it_and_removing_one_deletes_its_frames(tmp_path, clips):
    frames, out = tmp_path / "frames", tmp_path / "extract"
    two = _videos(tmp_path, {k: clips[k] for k in "ab"})
    assert "(2 extracted, 0 unchanged" in extract_all(PARAMS, two, frames, out, Inline())
    three = _videos(tmp_path, clips)
    assert "(1 extracted, 2 unchanged" in extract_all(PARAMS, three, frames, out, Inline())
    fresh = tmp_path / "fresh"
    extract_all(PARAMS, three, fresh / "frames", fresh / "extract", Inline())
    assert _files(frames) == _files(fresh / "frames")  # the same bytes as extracting all three at once
    table = tables.read_table(out / "frames.parquet", tables.FRAMES)
    assert table.drop(columns="shard").equals(
        tables.read_table(fresh / "extract" / "frames.parquet", tables.FRAMES).drop(columns="shard"))
    one = _videos(tmp_path, {"c": clips["c"]})
    assert "(0 extracted, 1 unchanged, 2 removed" in extract_all(PARAMS, one, frames, out, Inline())
    assert sorted(p.name for p in frames.iterdir()) == ["c.zip"]


def test_a_damaged_shard_is_extracted_again_and_a_folder_of_the_old_layout_goes(tmp_path, clips):
    frames, out = tmp_path / "frames", tmp_path / "extract"
    videos = _videos(tmp_path, {k: clips[k] for k in "ab"})
    extract_all(PARAMS, videos, frames, out, Inline())
    good = (frames / "a.zip").read_bytes()
    (frames / "a.zip").write_bytes(good[: len(good) // 2])  # a copy cut short
    (frames / "b").mkdir()  # loose JPEGs as framehound wrote them before shards
    (frames / "b" / "b_0.jpg").write_bytes(b"old")
    assert "(1 extracted, 1 unchanged, 1 removed, 1 damaged and extracted again" in extract_all(
        PARAMS, videos, frames, out, Inline())
    assert (frames / "a.zip").read_bytes() == good and sorted(p.name for p in frames.iterdir()) == ["a.zip", "b.zip"]


def test_changed_params_re_extract_every_video(tmp_path, clips):
    videos = _videos(tmp_path, clips)
    extract_all(PARAMS, videos, tmp_path / "frames", tmp_path / "extract", Inline())
    changed = ExtractParams(fps=1, max_frames_per_video=8, max_side=320, jpeg_qscale=2)
    assert "(3 extracted, 0 unchanged" in extract_all(changed, videos, tmp_path / "frames", tmp_path / "extract",
                                                       Inline())


def test_a_process_pool_and_shipped_bytes_write_the_same_frames_as_inline(tmp_path, clips):
    videos = _videos(tmp_path, clips)
    extract_all(PARAMS, videos, tmp_path / "inline", tmp_path / "t1", Inline())
    pool = LocalPool(2)
    try:
        summary = extract_all(PARAMS, videos, tmp_path / "pool", tmp_path / "t2", pool, ship_videos=True)
    finally:
        pool.close()
    assert summary.endswith("; local, 2 processes")
    assert _files(tmp_path / "inline") == _files(tmp_path / "pool")


def test_screen_measures_only_frames_it_has_not_seen(tmp_path, clips):
    videos = _videos(tmp_path, {k: clips[k] for k in "ab"})
    extract_all(PARAMS, videos, tmp_path / "frames", tmp_path / "extract", Inline())
    settings, frames = ScreenParams(dedup_distance=4, min_sharpness=10), tmp_path / "extract" / "frames.parquet"
    first = screen_all(settings, frames, videos, tmp_path / "s1", tmp_path / "cache", tmp_path / "m1.json", Inline())
    again = screen_all(settings, frames, videos, tmp_path / "s2", tmp_path / "cache", tmp_path / "m2.json", Inline())
    assert "0 from the cache" in first and " 0 frames measured" in again
    assert _files(tmp_path / "s1") == _files(tmp_path / "s2")
    videos = _videos(tmp_path, clips)
    extract_all(PARAMS, videos, tmp_path / "frames", tmp_path / "extract", Inline())
    added = screen_all(settings, frames, videos, tmp_path / "s3", tmp_path / "cache", tmp_path / "m3.json", Inline())
    new_frames = len(tables.read_table(frames, tables.FRAMES).query("video_id == 'c'"))
    assert f" {new_frames} frames measured" in added


@pytest.mark.slow
def test_the_default_pipeline_on_ray_gives_the_bytes_of_the_local_run(tmp_path, monkeypatch):
    """A real local Ray runtime with 2 CPUs: every output's hash equals the committed dvc.lock (a local run).

    extract and screen run as Ray tasks, detect on a Ray actor pool.
    """
    pytest.importorskip("ray")
    # A single-node runtime: keep Ray on loopback (it would otherwise use the machine's outward address).
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    project = tmp_path / "project"
    for name in _tracked_files():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, project / name)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["executor"] = {"kind": "ray", "workers": 2, "address": None}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], project)
    result = run(["dvc", "repro"], project)
    assert "extract" in stages_run(result.stdout)
    for stage in ("extract", "screen", "detect"):  # tasks for extract and screen, an actor pool for detect
        assert re.search(rf"^{stage}: .*; ray, 1 node, 2 CPUs \(", result.stdout, re.MULTILINE), stage
    assert re.search(r"^detect: 154 frames \(154 inferred, 0 cached\)", result.stdout, re.MULTILINE)

    def outs(lock: Path) -> dict:
        stages = yaml.safe_load(lock.read_text())["stages"]
        return {(s, o["path"]): o["md5"] for s, v in stages.items() for o in v.get("outs", [])}

    assert outs(project / "dvc.lock") == outs(REPO / "dvc.lock")


@pytest.mark.slow
@pytest.mark.parametrize("per_site", [1, 2])
def test_ray_downloads_hold_the_cluster_to_the_per_site_cap(tmp_path, server, monkeypatch, per_site):
    """Four slow downloads from one site on a Ray runtime with 4 CPUs: never more at once than fetch.concurrency."""
    pytest.importorskip("ray")
    server.slow.set()
    clips = tmp_path / "www-clips"
    short = _trimmed(server.root / "bikes.mp4", tmp_path / "short.mp4", 0)  # ~2 s to send while slow
    for name in ("a", "b", "c", "d"):  # distinct URLs of one site
        shutil.copyfile(short, server.root / f"{name}.mp4")
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    script = textwrap.dedent(f"""
        from dataclasses import replace
        from pathlib import Path
        from framehound.executor import RayCluster
        from framehound.fetch.run import fetch_videos
        from tests.test_fetch import FETCH
        sources = [{server.url!r} + f"/slow/{{n}}.mp4" for n in "abcd"]
        print(fetch_videos(replace(FETCH, sources=sources, concurrency={per_site}), Path({str(clips / 'videos')!r}),
                           Path({str(clips / 'fetch')!r}), RayCluster(None, 4)))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "4 videos" in done.stdout and "; ray, 1 node, 4 CPUs" in done.stdout
    assert server.busy.most == per_site


@pytest.mark.parametrize(("address", "message"), [
    ("127.0.0.1:1", r"executor\.address: nothing answers at 127\.0\.0\.1:1 \(Connection refused\); start the cluster"),
    ("ray://127.0.0.1:1", r"executor\.address: nothing answers at ray://127\.0\.0\.1:1 \(Connection refused\)"),
    ("auto", r"executor\.address: cannot join the Ray cluster at auto \(Could not find any running Ray instance"),
])
def test_a_ray_cluster_that_is_not_there_is_one_line_at_once_not_minutes_of_retries(address, message):
    with pytest.raises(FramehoundError, match=rf"^{message}[^\n]*$"):
        RayCluster(address, None)


def test_a_pool_forks_no_more_processes_than_it_has_items():
    pool = LocalPool(64)
    try:
        assert list(pool.map(abs, [-3], desc="t", unit="item")) == [3]
        assert len(multiprocessing.active_children()) == 1
    finally:
        pool.close()
