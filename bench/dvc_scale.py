"""What DVC costs when a stage's persist output holds 100,000 frames, one file each, against one file a video.

    python bench/dvc_scale.py                          # 100,200 frames (334 videos x 300) and a tenth of that
    python bench/dvc_scale.py --frames 2000 --sizes 1  # a quick check

At 1,000 videos x 300 frames ``data/frames`` holds 300,000 JPEGs, and DVC
hashes, caches and links every file of a directory output. For each size this
makes a temporary git + DVC repo holding one stage shaped like framehound's
extract: a dependency (``videos.txt``, the list of videos) and ``data/frames``
as a ``persist: true`` output. Its cmd is a no-op (``true``): the bench writes
the files itself beforehand, so every figure is DVC's own cost. Two layouts of
the same JPEG bytes (32x32 seeded noise, distinct):

* ``frames``: ``data/frames/<video>/<frame>.jpg``, one file a frame (framehound's layout before shards);
* ``shards``: ``data/frames/<video>.zip``, one uncompressed zip a video, written by
  ``framehound.shards.pack`` (today's layout).

Timed, each a ``dvc`` command run as a user runs it (so each includes DVC's
start-up, timed on its own as ``startup``): the first ``dvc repro`` (hashes
and caches every file), ``dvc status`` and ``dvc repro`` on the unchanged
tree, one more video (``status`` then ``repro``), ``dvc push`` to a local
folder remote, and a ``dvc checkout`` of the whole output into an empty
folder (a fresh clone's ``dvc pull`` minus the transfer). Prints a table and
ratios; nothing is asserted about time (shared machines are noisy), and the
ratios from one run are what to compare.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from framehound.shards import pack

SIDE = 32
STAGE = """\
stages:
  extract:
    cmd: "true"
    deps:
      - videos.txt
    outs:
      - data/frames:
          persist: true
"""
READER = """\
  reader{index}:
    cmd: "true"
    deps:
      - data/frames
"""
STEPS = ("startup", "first repro", "status (unchanged)", "repro (no-op)", "status (+1 video)",
         "repro (+1 video)", "push (local remote)", "checkout (empty folder)")


def video_jpegs(video: int, frames: int, seed: int) -> list[bytes]:
    """``frames`` distinct small noise JPEGs for one video; the same bytes for the same (video, seed)."""
    rng = np.random.default_rng([seed, video])
    out = []
    for _ in range(frames):
        ok, buf = cv2.imencode(".jpg", rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8),
                               [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        out.append(buf.tobytes())
    return out


def write_video(folder: Path, layout: str, video: int, jpegs: list[bytes]) -> None:
    name = f"v{video:04d}"
    if layout == "frames":
        target = folder / name
        target.mkdir(parents=True)
        for index, data in enumerate(jpegs):
            (target / f"{index:06d}.jpg").write_bytes(data)
        return
    (folder / f"{name}.zip").write_bytes(pack(((f"{index:06d}", data) for index, data in enumerate(jpegs)), {}))


def dvc(repo: Path, *args: str) -> tuple[float, str]:
    """Seconds one ``dvc`` command takes, and what it printed; fails loudly if it fails."""
    env = os.environ | {"DVC_NO_ANALYTICS": "1"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"dvc {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout + done.stderr


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def run_layout(root: Path, layout: str, jpegs: list[list[bytes]], extra: list[bytes],
               readers: int = 0) -> tuple[dict, dict]:
    """Times every step for one layout in a fresh repo; returns {step: seconds}, {step: files it covered}."""
    repo = root / layout
    repo.mkdir()
    git(repo, "init", "-q")
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.analytics", "false")
    dvc(repo, "remote", "add", "-d", "local", str(root / f"{layout}-remote"))
    (repo / "dvc.yaml").write_text(STAGE + "".join(READER.format(index=i) for i in range(readers)))
    (repo / "videos.txt").write_text("".join(f"v{v:04d}\n" for v in range(len(jpegs))))
    seconds: dict[str, float] = {}
    seconds["startup"], _ = dvc(repo, "status")  # DVC's start-up and a pipeline read, with nothing to hash
    frames_dir = repo / "data" / "frames"
    frames_dir.mkdir(parents=True)
    for video, video_jpegs_ in enumerate(jpegs):
        write_video(frames_dir, layout, video, video_jpegs_)
    per_video = 1 if layout == "shards" else len(jpegs[0])
    files = {step: len(jpegs) * per_video for step in STEPS}
    files["startup"] = 0
    seconds["first repro"], _ = dvc(repo, "repro")
    seconds["status (unchanged)"], out = dvc(repo, "status")
    if "up to date" not in out:
        raise RuntimeError(f"dvc status after the first repro is not clean:\n{out}")
    seconds["repro (no-op)"], out = dvc(repo, "repro")
    if "didn't change" not in out:
        raise RuntimeError(f"a no-op repro ran the stage:\n{out}")
    video = len(jpegs)
    write_video(frames_dir, layout, video, extra)
    with open(repo / "videos.txt", "a") as listing:
        listing.write(f"v{video:04d}\n")
    seconds["status (+1 video)"], out = dvc(repo, "status")
    if "changed" not in out:
        raise RuntimeError(f"dvc status missed the new video:\n{out}")
    seconds["repro (+1 video)"], _ = dvc(repo, "repro")
    for step in ("status (+1 video)", "repro (+1 video)", "push (local remote)", "checkout (empty folder)"):
        files[step] += per_video
    seconds["push (local remote)"], _ = dvc(repo, "push")
    shutil.rmtree(frames_dir)
    seconds["checkout (empty folder)"], _ = dvc(repo, "checkout")
    restored = sum(1 for p in frames_dir.rglob("*") if p.is_file())
    if restored != files["checkout (empty folder)"]:
        raise RuntimeError(f"checkout restored {restored} files, expected {files['checkout (empty folder)']}")
    return seconds, files


def cache_types(root: Path) -> str:
    repo = next(p for p in (root / "frames", root / "shards") if p.exists())
    configured = subprocess.run([sys.executable, "-m", "dvc", "config", "cache.type"], cwd=repo,
                                capture_output=True, text=True).stdout.strip()
    _, doctor = dvc(repo, "doctor")
    supported = next((line.split(":", 1)[1].strip() for line in doctor.splitlines()
                      if line.startswith("Cache types")), "?")
    return f"cache.type={configured or 'unset (DVC default reflink,copy)'}; this filesystem supports: {supported}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=100_000, help="frames at the largest size (whole videos)")
    parser.add_argument("--frames-per-video", type=int, default=300, help="framehound's extract.max_frames_per_video")
    parser.add_argument("--sizes", type=int, default=2, help="1: only --frames; 2: also a tenth of it")
    parser.add_argument("--layouts", default="frames,shards")
    parser.add_argument("--readers", type=int, default=0,
                        help="no-op stages that list data/frames as a dep (framehound had 4 before shards: "
                             "screen, detect, split, report; now none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None, help="where the temporary repos go (default: a tempdir)")
    args = parser.parse_args()

    print(f"{platform.node()}: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, DVC {dvc(Path.cwd(), '--version')[1].strip()}")
    fpv = args.frames_per_video
    sizes = [math.ceil(args.frames / fpv)] + ([math.ceil(args.frames / 10 / fpv)] if args.sizes > 1 else [])
    layouts = args.layouts.split(",")
    results: dict[tuple[str, int], tuple[dict, dict]] = {}
    bytes_at: dict[int, int] = {}
    linking = ""
    for videos in sizes:
        started = time.perf_counter()
        jpegs = [video_jpegs(v, fpv, args.seed) for v in range(videos)]
        extra = video_jpegs(videos, fpv, args.seed)
        bytes_at[videos] = sum(len(j) for video in jpegs for j in video)
        print(f"\n{videos} videos x {fpv} frames = {videos * fpv} JPEGs, {bytes_at[videos] / 1e6:.0f} MB "
              f"(made in {time.perf_counter() - started:.1f} s)", flush=True)
        root = Path(tempfile.mkdtemp(prefix="dvc-scale-", dir=args.workdir))
        try:
            for layout in layouts:
                started = time.perf_counter()
                results[layout, videos] = run_layout(root, layout, jpegs, extra, args.readers)
                print(f"  {layout}: {time.perf_counter() - started:.1f} s in all", flush=True)
            linking = linking or cache_types(root)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    print(f"\n{linking}; stages reading data/frames besides its own: {args.readers}\n")
    print(f"{'layout':7s} {'videos':>6s} {'files':>7s}  {'step':24s} {'seconds':>8s} {'files/s':>9s}")
    for (layout, videos), (seconds, files) in results.items():
        for step in STEPS:
            rate = f"{files[step] / seconds[step]:9.0f}" if files[step] else f"{'':9s}"
            print(f"{layout:7s} {videos:6d} {files[step]:7d}  {step:24s} {seconds[step]:8.2f} {rate}")
    timed = [s for s in STEPS if s != "startup"]
    big = sizes[0]
    if {"frames", "shards"} <= set(layouts):
        print(f"\nframes/shards at {big} videos (same bytes, {fpv}x the files):")
        for step in timed:
            print(f"  {step:24s} {results['frames', big][0][step] / results['shards', big][0][step]:6.1f}x")
    if len(sizes) > 1:
        small = sizes[1]
        print(f"\n{big} videos / {small} videos ({big / small:.1f}x the files), per layout:")
        for layout in layouts:
            line = "  ".join(f"{step} {results[layout, big][0][step] / results[layout, small][0][step]:.1f}x"
                             for step in timed)
            print(f"  {layout:7s} {line}")
    if "frames" in layouts:
        seconds, files = results["frames", big]
        startup = seconds["startup"]
        print(f"\nper frame at {files['first repro']} frames, start-up ({startup:.2f} s) taken off:")
        for step in timed:
            print(f"  {step:24s} {(seconds[step] - startup) / files[step] * 1e6:8.1f} us/file")


if __name__ == "__main__":
    main()
