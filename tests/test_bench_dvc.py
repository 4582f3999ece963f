"""bench/dvc_scale.py runs end to end on a few hundred files: that it runs and reports is checked, never timings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_dvc_scale_bench_times_both_layouts_at_both_sizes(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(REPO / "bench" / "dvc_scale.py"), "--frames", "200",
                          "--frames-per-video", "20", "--workdir", str(tmp_path)],
                         capture_output=True, text=True, check=True, timeout=600).stdout
    assert "frames      10     200  first repro" in out and "shards      10      10  first repro" in out
    assert "frames       1      20  first repro" in out  # the tenth
    assert "frames/shards at 10 videos" in out and "10 videos / 1 videos" in out
    assert "cache.type=" in out
    assert not list(tmp_path.iterdir())  # the temporary repos are gone
