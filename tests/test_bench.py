"""bench/detect.py runs every mode it offers, so a lent GPU's few minutes are never spent on a broken script.

Only that it runs and reports is checked: timings are never asserted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
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


def test_bench_puts_cpu_runtimes_side_by_side_with_ratios_from_one_run(jpegs: Path, model_dir: Path,
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from framehound.detect.openvino_backend import openvino_installed

    if not openvino_installed():  # not importorskip: a plain `import openvino` starts its telemetry
        pytest.skip("openvino is not installed")
    pytest.importorskip("nncf")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the int8 model goes here, not in ~/.cache
    out = _bench(jpegs, model_dir, "--backend", "opencv,openvino,openvino:int8", "--modes", "ceiling,stage",
                 "--load", "1")
    assert "openvino int8: model ready in" in out
    assert re.search(r"^stage    batch    1: .* openvino fp32$", out, re.M)
    assert re.search(r"stage/ceiling [\d.]+, stage ×opencv [\d.]+, ceiling ×opencv [\d.]+  \(openvino fp32,", out)
    assert re.search(r"stage ×opencv [\d.]+, ceiling ×opencv [\d.]+  \(openvino int8,", out)


def _parity(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "bench" / "parity.py"), *args],
                          capture_output=True, text=True, timeout=600)


def test_parity_finds_the_same_boxes_from_both_backends_and_fails_on_moved_ones(
        jpegs: Path, model_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    reference = tmp_path / "reference.json"
    _parity("write", "--frames-dir", str(jpegs), "--model-dir", str(model_dir), "--out", str(reference))
    same = _parity("compare", "--frames-dir", str(jpegs), "--model-dir", str(model_dir),
                   "--reference", str(reference), "--backend", "torch", "--min-confidence", "0.05")
    result = json.loads(same.stdout)
    assert same.returncode == 0 and result["met"] and result["reference_boxes"] > 0
    assert result["added"] == result["dropped"] == 0
    moved = {frame: [b | {"xyxy": [v + 40 for v in b["xyxy"]]} for b in boxes]
             for frame, boxes in json.loads(reference.read_text()).items()}
    reference.write_text(json.dumps(moved))
    shifted = _parity("compare", "--frames-dir", str(jpegs), "--model-dir", str(model_dir),
                      "--reference", str(reference), "--backend", "torch", "--min-confidence", "0.05")
    moved_result = json.loads(shifted.stdout)
    assert shifted.returncode == 1 and moved_result["matched"] == 0
    assert moved_result["dropped"] == moved_result["reference_boxes"] and moved_result["added"] > 0


def test_random_weights_fit_their_cfg_in_both_loaders_and_propose_nothing(model_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import cv2
    import numpy as np

    from framehound.detect.torch_backend import TorchDetector

    out = tmp_path / "random"
    subprocess.run([sys.executable, str(REPO / "bench" / "random_weights.py"), str(model_dir / "model.cfg"),
                    str(model_dir / "model.names"), str(out)], check=True, timeout=600)
    assert (out / "model.weights").stat().st_size == (model_dir / "model.weights").stat().st_size
    cv2.dnn.readNetFromDarknet(str(out / "model.cfg"), str(out / "model.weights"))
    rows = TorchDetector(out, 416, half=False, batch_size=1).infer(np.zeros((1, 416, 416, 3), np.uint8), 0.05)
    assert rows[0].shape[0] == 0  # the objectness cut keeps nothing, as with real weights on an empty frame


def test_the_gpu_script_runs_every_step_on_cpu(jpegs: Path, model_dir: Path, tmp_path: Path) -> None:
    """bench/gpu.sh as the lent machine runs it, small: only nvidia-smi may be missing here."""
    pytest.importorskip("torch")
    carry = tmp_path / "carry"
    (carry / "wheels").mkdir(parents=True)
    shutil.copytree(jpegs, carry / "frames")
    shutil.copytree(model_dir, carry / "model")
    shutil.copyfile(model_dir / "model.cfg", carry / "yolov3.cfg")  # a small stand-in for the full cfg
    _parity("write", "--frames-dir", str(carry / "frames"), "--model-dir", str(model_dir),
            "--out", str(carry / "opencv_cpu.json"))
    out = tmp_path / "out"
    env = os.environ | {"OUT": str(out), "FRAMES": "8", "BATCHES": "1,2", "HALF": "",
                        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(["bash", str(REPO / "bench" / "gpu.sh"), str(carry)], cwd=REPO, env=env, check=True,
                   capture_output=True, timeout=900)
    steps = (out / "steps.txt").read_text()
    exits = dict(zip([line.split(":")[0][3:] for line in steps.splitlines() if line.startswith("== ")],
                     [line.split()[1] for line in steps.splitlines() if line.startswith("   exit")], strict=True))
    assert {k: v for k, v in exits.items() if k != "after"} == {
        "env": "0", "parity_fp16": "0", "parity_fp32": "0", "tiny": "0", "yolov3_weights": "0", "yolov3": "0"}
    assert "stage/input" in (out / "tiny.txt").read_text()


def test_extract_modes_bench_times_every_mode_and_prints_the_ratios() -> None:
    out = subprocess.run([sys.executable, str(REPO / "bench" / "extract_modes.py"), "--seconds", "6", "--repeats", "1"],
                         capture_output=True, text=True, check=True, timeout=600).stdout
    assert re.search(r"^keyframes +[\d.]+ s  2 frames$", out, re.M)  # the keyframes at 0 and 5 s
    assert "keyframes vs fps:" in out and "fps vs bare decode:" in out
