"""Flip random bytes in every persistent output: the next `dvc repro` rebuilds the same dataset or stops in one line.

The outputs DVC keeps across runs (``persist: true``: videos, frame shards,
the screen and detect caches) and people's decisions in reviews/ are what a
failing disk or a careless tool can damage between runs. Whatever byte
changes, the next run either heals it (the same dataset, byte for byte) or
stops with one ``error:`` line: never a traceback, never another dataset.
People's decisions are restored from git (they are their work, not a cache);
everything else heals by itself.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import yaml

from framehound import tables
from framehound.decisions.log import Decision, append
from tests.conftest import run
from tests.test_kill import digests
from tests.test_pipeline import _tracked_files

pytestmark = pytest.mark.slow

PERSISTENT = ("data/videos", "data/frames", "data/screen-cache", "data/detect-cache", "reviews")
SEEDS = (0, 1, 2)  # each round re-runs what the damage touches: about a minute on a 2-core box


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The pipeline on two packaged clips, run, with one frame of the dataset rejected by a person.

    Small (two local videos, a few frames each) so that each round, which may
    re-infer every frame, takes seconds; reviews/ gets bytes to damage.
    """
    root = tmp_path_factory.mktemp("corruption")
    for name in _tracked_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(__file__).resolve().parents[1] / name, root / name)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["fetch"]["sources"] = [s for s in params["fetch"]["sources"] if s["source"].startswith("pkg:")][:2]
    params["extract"] |= {"fps": 1, "max_frames_per_video": 12}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "init"], root)
    run(["dvc", "repro"], root)
    frame = tables.read_table(root / "data/filter/frames.parquet", tables.FRAMES).iloc[0]
    append(root / "reviews/decisions.jsonl", [Decision(frame.sha256, frame.frame_id, "rejected", (), int(frame.width),
                                                       int(frame.height), "tester", "2026-01-01T00:00:00.000Z")])
    run(["git", "add", "reviews"], root)
    run(["git", "commit", "-qm", "a person's decision"], root)
    run(["dvc", "repro"], root)
    return root


@pytest.fixture(scope="module")
def reference(project: Path) -> dict[str, str]:
    return digests(project / "data/dataset")


def flip_a_byte(folder: Path, rng: random.Random) -> str:
    """XOR one byte, at a random place of a random file of ``folder``, with a random non-zero value."""
    target = rng.choice(sorted(p for p in folder.rglob("*") if p.is_file() and p.stat().st_size and p.name[0] != "."))
    data = bytearray(target.read_bytes())
    data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
    target.write_bytes(bytes(data))
    return target.relative_to(folder.parent).as_posix()


@pytest.mark.parametrize("seed", SEEDS)
def test_a_flipped_byte_in_each_persistent_output_never_reaches_the_dataset(project, reference, seed):
    rng = random.Random(seed)
    damaged = [flip_a_byte(project / folder, rng) for folder in PERSISTENT]
    after = run(["dvc", "repro"], project, check=False)
    output = after.stdout + after.stderr
    assert "Traceback" not in output, damaged
    if after.returncode == 0:
        assert digests(project / "data/dataset") == reference, damaged
    else:
        assert len([ln for ln in output.splitlines() if ln.startswith("error: ")]) == 1, (damaged, output[-2000:])
    run(["git", "checkout", "--", "reviews"], project)
    healed = run(["dvc", "repro"], project)
    assert "Traceback" not in healed.stdout + healed.stderr
    assert digests(project / "data/dataset") == reference, damaged
    assert "up to date" in run(["dvc", "status"], project).stdout
