"""SIGKILL any stage anywhere: the next `dvc repro` gives the same dataset, a clean status and no debris."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from framehound.params import load
from framehound.pipeline import declared_outputs
from tests.conftest import run
from tests.test_pipeline import _tracked_files, stages_run

pytestmark = pytest.mark.slow

STAGES = ["fetch", "extract", "screen", "detect", "filter", "split", "evaluate", "report"]
WATCHED = ("data", "models", "metrics")  # where stages write; .dvc/ and .git/ are DVC's and git's own


def digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def debris(project: Path) -> list[str]:
    """Leftovers of interrupted writes anywhere a stage writes."""
    return sorted(p.relative_to(project).as_posix() for folder in WATCHED if (project / folder).exists()
                  for p in (project / folder).rglob("*.partial-*"))


def cached_debris(project: Path) -> list[str]:
    """Debris inside a declared output: what DVC would hash, cache and push."""
    params = load(project / "params.yaml")
    outputs = [path for _, path, _ in declared_outputs(params, project / "dvc.yaml")]
    return [name for name in debris(project) if any((project / name).is_relative_to(out) for out in outputs)]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kill")
    for name in _tracked_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(__file__).resolve().parents[1] / name, root / name)
    run(["git", "init", "-q"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "init"], root)
    run(["dvc", "repro"], root)
    return root


@pytest.fixture(scope="module")
def reference(project: Path) -> dict[str, dict[str, str]]:
    return {name: digests(project / name) for name in ("data/dataset", "metrics")}


def kill_during(project: Path, stage: str, point: str) -> bool:
    """Run `dvc repro -f -s stage` and SIGKILL it (DVC and the stage) at ``point``; True if it was killed.

    ``start``: as soon as DVC says the stage runs. ``writing``: as soon as an output is half-written
    (a ``.partial-*`` exists), which is where a kill can leave debris.
    """
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(project)}
    child = subprocess.Popen(["dvc", "repro", "-f", "-s", stage], cwd=project, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    started = threading.Event()
    threading.Thread(target=lambda: [started.set() for line in child.stdout if "Running stage" in line],
                     daemon=True).start()
    deadline = time.monotonic() + 300
    while child.poll() is None and time.monotonic() < deadline:
        if started.is_set() and (point == "start" or debris(project)):
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return True
        time.sleep(0.002)
    child.wait()
    return False


@pytest.mark.parametrize("point", ["start", "writing"])
@pytest.mark.parametrize("stage", STAGES)
def test_a_killed_stage_recovers_to_the_same_dataset(project, reference, stage, point):
    killed = kill_during(project, stage, point)
    recovery = run(["dvc", "repro"], project)
    assert set(stages_run(recovery.stdout)) <= {stage} | set(STAGES[STAGES.index(stage):])
    assert {name: digests(project / name) for name in reference} == reference
    assert "up to date" in run(["dvc", "status"], project).stdout
    # Debris beside an output is removed when its stage next runs (DVC may restore this one from its
    # run-cache without running it); inside an output it would be cached, so none may be there.
    assert cached_debris(project) == []
    if point == "start":
        assert killed, f"{stage} finished before it could be killed"


def test_debris_in_persistent_outputs_is_removed_and_never_recorded(project, reference):
    """What older killed runs left inside `persist: true` outputs and beside every output goes on start."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    planted = [project / name for name in ("data/detect-cache/.abc.parquet.partial-x1",
                                           "data/videos/.resolved/.k.json.partial-x2",
                                           "data/.frames.partial-x3/f.jpg", "metrics/.screen.json.partial-x4")]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a file")
    run(["dvc", "repro", "-f", "-s", "fetch"], project)
    run(["dvc", "repro", "-f", "-s", "extract"], project)
    run(["dvc", "repro", "-f", "-s", "screen"], project)
    run(["dvc", "repro", "-f", "-s", "detect"], project)
    assert debris(project) == []
    assert yaml.safe_load((project / "dvc.lock").read_text()) == lock, "the same outputs, file counts included"
    assert {name: digests(project / name) for name in reference} == reference
