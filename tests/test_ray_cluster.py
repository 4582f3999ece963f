"""A real Ray cluster on loopback: a head and two worker nodes; one node dies mid-stage and nothing changes.

The head runs no tasks (0 CPUs), so the work lands on the worker nodes, each
started in its own empty working directory. Every node listens on 127.0.0.2:
Ray rewrites 127.0.0.1 and localhost to the machine's outward address, and a
test sends traffic to loopback only; token authentication is off, as on a
cluster whose nodes share no token file. The driver ships each video's
bytes (executor: ray never passes paths), so a worker needs no checkout. One
worker node is killed as soon as the first video's frames are stored; Ray
re-runs its tasks on the other node and the frames equal an inline run's.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from framehound.executor import Inline
from framehound.extract.run import extract_all
from tests.test_executor import PARAMS, _files, _trimmed, _videos

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray")
RAY = str(Path(sys.executable).parent / "ray")
HOST = "127.0.0.2"
LOOPBACK = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    port, temp = _free_port(), Path("/tmp") / f"fh-ray-{os.getpid()}"  # short: Ray's socket paths are limited
    env = os.environ | LOOPBACK
    subprocess.run([RAY, "start", "--head", f"--node-ip-address={HOST}", f"--port={port}", "--num-cpus=0",
                    "--include-dashboard=false", f"--temp-dir={temp}", "--disable-usage-stats"],
                   check=True, capture_output=True, env=env, timeout=120)
    workers = []
    try:
        for count, name in enumerate(("a", "b"), start=1):  # one at a time: nodes joining at once can collide
            home = tmp_path / f"node-{name}"
            home.mkdir()
            workers.append(subprocess.Popen(
                [RAY, "start", f"--address={HOST}:{port}", f"--node-ip-address={HOST}", "--num-cpus=1",
                 f"--resources={json.dumps({f'node_{name}': 1})}", "--block"],
                cwd=home, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            deadline = time.monotonic() + 90
            while f"/{count}.0 CPU" not in subprocess.run([RAY, "status", f"--address={HOST}:{port}"],
                                                           capture_output=True, text=True, env=env, timeout=60).stdout:
                assert time.monotonic() < deadline, f"worker node {name} did not join"
                time.sleep(1)
        yield f"{HOST}:{port}", workers
    finally:
        for worker in workers:
            with _quiet():
                os.killpg(worker.pid, signal.SIGKILL)
        subprocess.run([RAY, "stop", "--force"], capture_output=True, env=env, timeout=120)


class _quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is ProcessLookupError


def test_a_worker_node_killed_mid_stage_changes_no_byte(tmp_path, cluster, bikes):
    address, workers = cluster
    clips = {f"v{i}": _trimmed(bikes, tmp_path / f"v{i}.mp4", i) for i in range(6)}
    videos = _videos(tmp_path, clips)
    extract_all(PARAMS, videos, tmp_path / "inline", tmp_path / "t0", Inline())
    driver = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from pathlib import Path
        from framehound.executor import RayCluster
        from framehound.extract.run import extract_all
        from tests.test_executor import PARAMS
        cluster = RayCluster({address!r}, None)
        print(cluster.where, flush=True)
        print(extract_all(PARAMS, Path({str(videos)!r}), Path({str(tmp_path / 'ray')!r}),
                          Path({str(tmp_path / 't1')!r}), cluster, ship_videos=True), flush=True)
    """)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1], env=os.environ | LOOPBACK)
    deadline = time.monotonic() + 180
    while not any((tmp_path / "ray").glob("v*.zip")) and driver.poll() is None:
        assert time.monotonic() < deadline, "no video finished on the cluster"
        time.sleep(0.05)
    os.killpg(workers[1].pid, signal.SIGKILL)  # node b and every worker process on it
    out, _ = driver.communicate(timeout=300)
    assert driver.returncode == 0, out
    assert out.splitlines()[0] == "ray, 3 nodes, 2 CPUs"
    assert "from 6 videos (6 extracted, 0 unchanged, 1 spread over their whole length), 0 skipped" in out
    assert _files(tmp_path / "ray") == _files(tmp_path / "inline")
