"""Where the per-video work of a stage runs: a local process pool (the default) or a Ray cluster.

A stage hands ``map`` a module-level function and its inputs and gets the
results back in input order, so what it writes does not depend on which
worker finished first: ``executor: ray`` and ``executor: local`` give
byte-identical outputs. Inputs and results travel by value (pickled to a
local process, through Ray's object store to a remote node), so workers need
no shared filesystem; the driver alone writes the DVC outputs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

from framehound.errors import FramehoundError
from framehound.params import ExecutorParams
from framehound.progress import progress

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    where: str  # for the stage's summary line: "local, 2 processes", "ray, 2 nodes, 4 CPUs"

    def map(self, fn: Callable[[T], R], items: Sequence[T], desc: str, unit: str) -> Iterator[R]:
        """``fn`` over ``items``, results in input order, with one progress bar."""
        ...


class Inline:
    """No pool: for one item, or one worker (a pool would only add start-up time)."""

    where = "local, 1 process"

    def map(self, fn: Callable[[T], R], items: Sequence[T], desc: str, unit: str) -> Iterator[R]:
        return progress(map(fn, items), desc=desc, total=len(items), unit=unit)


def _quiet_worker() -> None:
    """Workers report through their results; their info lines (which ffmpeg, …) would repeat the driver's."""
    logging.getLogger("framehound").setLevel(logging.WARNING)


class LocalPool:
    """A process pool sized to the machine: embedded, no server.

    Started by the first ``map``, with no more processes than it has items:
    ``executor.workers: 256`` for one video forks one, not 256.
    """

    def __init__(self, workers: int) -> None:
        self.where = f"local, {workers} processes"
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[T], R], items: Sequence[T], desc: str, unit: str) -> Iterator[R]:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=max(1, min(self.workers, len(items))),
                                            initializer=_quiet_worker)
        return progress(self.pool.map(fn, items), desc=desc, total=len(items), unit=unit)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


class RayCluster:
    """Ray tasks, one CPU each; Ray's own retries re-run the tasks of a lost worker."""

    def __init__(self, address: str | None, workers: int | None) -> None:
        try:
            import ray
        except ImportError:
            raise FramehoundError("executor.kind: ray is not installed (pip install -r requirements-ray.txt)") \
                from None
        self.ray = ray
        if not ray.is_initialized():
            if address and address != "auto":
                _answers(address)
            # Joining a cluster ships this package to its nodes: they need not have the checkout.
            package = str(Path(__file__).resolve().parent)
            runtime = {"py_modules": [package]} if address else None
            try:
                ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                         log_to_driver=False, configure_logging=False, runtime_env=runtime)
            except (ConnectionError, ValueError, RuntimeError) as exc:  # no cluster, no ray[client], a refusal
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise FramehoundError(f"executor.address: cannot join the Ray cluster at {address} ({first})") \
                    from None
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        self.where = (f"ray, {len(nodes)} node{'s' * (len(nodes) != 1)}, {int(resources.get('CPU', 0))} CPUs"
                      + (f", {gpus} GPUs" if gpus else ""))

    def map(self, fn: Callable[[T], R], items: Sequence[T], desc: str, unit: str) -> Iterator[R]:
        remote = self.ray.remote(num_cpus=1, max_retries=3)(fn)
        refs = [remote.remote(item) for item in items]
        return progress((self.ray.get(ref) for ref in refs), desc=desc, total=len(refs), unit=unit)


def _answers(address: str, timeout_s: float = 10) -> None:
    """FramehoundError at once when nothing listens at ``address`` (Ray itself retries for minutes)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise FramehoundError(f"executor.address: nothing answers at {address} ({exc.strerror or exc}); start the "
                              "cluster (ray start --head) or set executor.address: null to run Ray here") from None


def ray_cluster(params: ExecutorParams) -> RayCluster | None:
    """The Ray cluster ``params`` asks for, or None when the work stays on this machine."""
    return RayCluster(params.address, params.workers) if params.kind == "ray" else None


@contextlib.contextmanager
def open_executor(params: ExecutorParams) -> Iterator[Executor]:
    """The executor ``params`` asks for (a local pool starts its processes only as work arrives)."""
    cluster = ray_cluster(params)
    if cluster:
        yield cluster
        return
    workers = params.workers or os.cpu_count() or 1
    if workers <= 1:
        yield Inline()
        return
    pool = LocalPool(workers)
    try:
        yield pool
    finally:
        pool.close()
