"""bench/scale.py runs end to end on a few videos, both ways: that it runs and reports is checked, never timings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _bench(*options: str) -> str:
    return subprocess.run([sys.executable, str(REPO / "bench" / "scale.py"), *options], capture_output=True,
                          text=True, check=True, timeout=600).stdout


def test_the_stage_functions_bench_reports_each_executor():
    out = _bench("--videos", "3", "--executors", "inline,local")
    assert "3 videos, bare ffmpeg full decode" in out
    assert ("local, 1 process" in out and "local, 2 processes" in out) or "local, 1 processes" in out


def test_the_pipeline_bench_times_every_stage_first_and_with_one_more_video():
    out = _bench("--videos", "6", "--pipeline")  # fewer: no labelled frame, and split refuses an empty dataset
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:] if line.strip()}
    assert set(rows) >= {"fetch", "extract", "screen", "detect", "filter", "split", "report"}
    assert float(rows["extract"][1]) > 0  # the added video was extracted: its stage ran again
