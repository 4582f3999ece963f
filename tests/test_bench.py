"""bench/detect.py runs every mode it offers, so a lent GPU's few minutes are never spent on a broken script.

Only that it runs and reports is checked: timings are never asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from framehound.extract.frames import extract_frames
from framehound.params import ExtractParams

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory: pytest.TempPathFactory, bikes: Path) -> Path:
    folder = tmp_path_factory.mktemp("jpegs")
    extract_frames(bikes, "bikes", folder, ExtractParams(fps=1, max_frames_per_video=4, max_side=640, jpeg_qscale=2))
    return folder


def _bench(jpegs: Path, model_dir: Path, *options: str) -> str:
    command = [sys.executable, str(REPO / "bench" / "detect.py"), "--frames-dir", str(jpegs), "--frames", "6",
               "--model-dir", str(model_dir), "--repeats", "1", "--no-record", *options]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=600).stdout


def test_opencv_bench_reports_every_mode_and_the_ratios(jpegs: Path, model_dir: Path) -> None:
    out = _bench(jpegs, model_dir)
    for mode in ("ceiling", "stage", "naive", "input"):
        assert f"{mode:8s} batch    1:" in out
    assert "stage/ceiling" in out and "stage/naive" in out and "stage/input" in out


def test_torch_bench_runs_the_gpu_command_shape_on_cpu(jpegs: Path, model_dir: Path) -> None:
    pytest.importorskip("torch")
    out = _bench(jpegs, model_dir, "--backend", "torch", "--batch-sizes", "1,4", "--modes", "ceiling,stage,input")
    assert "ceiling  batch    4:" in out and "input    batch    4:" in out
    assert "batch 4: stage/ceiling" in out
