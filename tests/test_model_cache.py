"""The per-user model cache: damaged files are made again in one line, racing makers never fail, debris and stale
entries go, and a change to the code that makes a model is a new key."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from framehound.detect import model_cache
from framehound.detect.model_cache import KEEP, STALE_DAYS, cached_model

WEIGHTS = np.random.default_rng(0).integers(0, 256, 3_000_000, dtype=np.uint8).tobytes()


def make(folder: Path) -> None:
    """A stand-in for a slow conversion: the cache handles the files as bytes."""
    (folder / "model.xml").write_bytes(b"<net/>")
    (folder / "model.bin").write_bytes(WEIGHTS)
    with open(folder.parent / "made.log", "a") as log:  # who made it, to count the makings
        log.write(f"{os.getpid()}\n")


def makings(root: Path) -> int:
    return len((root / "made.log").read_text().splitlines()) if (root / "made.log").exists() else 0


def test_a_model_is_made_once_and_then_read_back(tmp_path: Path) -> None:
    first = cached_model("k", make, "test", tmp_path)
    again = cached_model("k", make, "test", tmp_path)
    assert makings(tmp_path) == 1
    assert (first.xml, first.weights, first.digest) == (again.xml, again.weights, again.digest) == \
        (b"<net/>", WEIGHTS, first.digest)


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x40
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda path: _flip(path, 2_000_003), "model.bin does not match its recorded sha256 (damaged or truncated)"),
    (lambda path: path.write_bytes(path.read_bytes()[:1000]),
     "model.bin does not match its recorded sha256 (damaged or truncated)"),
    (lambda path: path.unlink(), "model.bin is missing"),
])
def test_a_damaged_truncated_or_missing_model_is_made_again_in_one_line(tmp_path: Path, damage, problem: str,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    sound = cached_model("k", make, "detect.precision int8", tmp_path)
    damage(tmp_path / "k" / "model.bin")
    with caplog.at_level(logging.WARNING, logger="framehound"):
        healed = cached_model("k", make, "detect.precision int8", tmp_path)
    assert [r.getMessage() for r in caplog.records] == [
        f"detect.precision int8: the cached model in {tmp_path / 'k'} is unusable ({problem}); making it again"]
    assert (healed.weights, healed.digest) == (sound.weights, sound.digest)
    assert makings(tmp_path) == 2
    assert cached_model("k", make, "test", tmp_path).weights == WEIGHTS  # healed for good


def _race(root: str) -> None:
    def slow(folder: Path) -> None:
        time.sleep(1)
        make(folder)

    assert cached_model("k", slow, "test", Path(root)).weights == WEIGHTS


def test_two_processes_making_the_same_model_at_once_both_get_it_and_it_is_made_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    racers = [context.Process(target=_race, args=(str(tmp_path),)) for _ in range(3)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    assert [racer.exitcode for racer in racers] == [0, 0, 0]
    assert makings(tmp_path) == 1


def test_a_maker_killed_midway_leaves_nothing_the_next_run_keeps(tmp_path: Path) -> None:
    script = ("import sys, time; from pathlib import Path\n"
              "from framehound.detect.model_cache import cached_model\n"
              "def hang(folder):\n    (folder / 'model.bin').write_bytes(b'half'); print('staged', flush=True); "
              "time.sleep(60)\n"
              f"cached_model('k', hang, 'test', Path({str(tmp_path)!r}))\n")
    maker = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert maker.stdout is not None and maker.stdout.readline() == "staged\n"
    os.kill(maker.pid, signal.SIGKILL)
    maker.wait()
    assert list(tmp_path.glob(".k.partial-*"))  # the kill's debris
    assert cached_model("k", make, "test", tmp_path).weights == WEIGHTS
    assert not list(tmp_path.glob(".k.partial-*"))


def test_stale_and_least_recently_used_entries_are_evicted(tmp_path: Path) -> None:
    now = time.time()
    for i in range(KEEP + 3):
        cached_model(f"old{i}", make, "test", tmp_path)
        age = (STALE_DAYS + 1) * 86400 if i == 0 else (KEEP + 3 - i) * 60  # old0: unused for too long
        os.utime(tmp_path / f"old{i}", (now - age, now - age))
    cached_model("new", make, "test", tmp_path)
    kept = sorted(p.name for p in tmp_path.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(kept) == KEEP
    assert "new" in kept and "old0" not in kept
    assert kept == sorted(["new", *(f"old{i}" for i in range(KEEP + 3 - (KEEP - 1), KEEP + 3))])


def test_the_int8_key_covers_the_code_that_makes_the_model(tmp_path: Path, model_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """No constant to bump by hand: a changed line in the graph builder is another key."""
    pytest.importorskip("nncf")
    from framehound.darknet import openvino_graph
    from framehound.detect import quantize

    before = quantize._key(model_dir, 416)
    edited = tmp_path / "openvino_graph.py"
    edited.write_text(Path(openvino_graph.__file__).read_text() + "\n# a change\n")
    monkeypatch.setattr(openvino_graph, "__file__", str(edited))
    assert quantize._key(model_dir, 416) != before
    assert quantize._key(model_dir, 320) != quantize._key(model_dir, 416)


def test_the_cache_lives_in_xdg_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert model_cache.default_cache_dir() == tmp_path / "framehound" / "openvino"
