"""``framehound promote``: the trained model becomes a DVC-tracked model preset that the model stage installs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from framehound.cli import main
from framehound.errors import FramehoundError
from framehound.hashing import sha256_file
from framehound.model.install import install_model
from framehound.params import validate
from framehound.promote import promote
from tests.conftest import REPO, run
from tests.test_params import compose

ROLES = ("cfg", "weights", "names")


@pytest.fixture
def repo(tmp_path: Path, model_dir: Path) -> Path:
    """A git + DVC repository with conf/ and params.yaml, after a train run that left data/train/model/."""
    root = tmp_path / "repo"
    root.mkdir()
    run(["git", "init", "-q"], root)
    run(["dvc", "init", "-q"], root)
    shutil.copytree(REPO / "conf", root / "conf")
    shutil.copyfile(REPO / "params.yaml", root / "params.yaml")
    trained = root / "data/train/model"  # a "trained" model: promote only copies and records the files
    trained.mkdir(parents=True)
    for role in ROLES:
        shutil.copyfile(model_dir / f"model.{role}", trained / f"model.{role}")
    return root


def test_promote_writes_a_preset_that_composes_validates_and_installs(repo, monkeypatch, capsys):
    assert main(["promote", "forklift-v1", "--root", str(repo)]) == 0
    assert "dvc exp run -S model=forklift-v1" in capsys.readouterr().out
    folder = repo / "models-promoted/forklift-v1"
    assert sorted(p.name for p in folder.iterdir()) == ["model.cfg", "model.names", "model.weights"]
    assert (repo / "models-promoted/forklift-v1.dvc").is_file()  # DVC tracks the weights, git the pointer
    run(["git", "check-ignore", "-q", "models-promoted/forklift-v1/model.weights"], repo)

    params = validate(compose(["model=forklift-v1"], repo / "conf"))
    assert params.model.name == "forklift-v1"
    assert params.model.weights.uri == "models-promoted/forklift-v1/model.weights"
    monkeypatch.chdir(repo)  # the model stage runs at the repository root; the URIs are relative to it
    digests = install_model(params.model, Path("models/forklift-v1"))
    assert digests == {r: sha256_file(repo / "data/train/model" / f"model.{r}") for r in ROLES}
    assert digests == {r: getattr(params.model, r).sha256 for r in ROLES}


def test_promote_refuses_in_one_line(repo, capsys):
    promote(repo, "forklift-v1")
    with pytest.raises(FramehoundError, match=r"^promote: model preset 'forklift-v1' exists .*--force to replace it"):
        promote(repo, "forklift-v1")
    assert promote(repo, "forklift-v1", force=True).startswith("promoted")
    with pytest.raises(FramehoundError, match=r"^promote: conf/model/yolov3-tiny.yaml was not written by promote"):
        promote(repo, "yolov3-tiny", force=True)
    for bad in ("../escape", "a/b", "..", "my model", "", "con", "CON", "nul", "Com1", "lpt9.txt", "m" * 251):
        with pytest.raises(FramehoundError, match=r"^promote: NAME must[^\n]*$"):
            promote(repo, bad)
    with pytest.raises(FramehoundError, match=r"^promote: NAME 'Forklift-V1' differs only in case from the preset "
                                              r"'forklift-v1' \(one file on case-insensitive filesystems\)"):
        promote(repo, "Forklift-V1")
    default = promote(repo)
    assert f"model=trained-{sha256_file(repo / 'data/train/model/model.weights')[:8]}" in default

    shutil.rmtree(repo / "data/train")
    (repo / "data/train").mkdir()
    (repo / "data/train/README.txt").write_text("No model was trained: train.epochs is 0\n")
    assert main(["promote", "forklift-v2", "--root", str(repo)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: promote: no trained model in data/train/model/") and error.count("\n") == 1
    assert not (repo / "conf/model/forklift-v2.yaml").exists()
    assert yaml.safe_load((repo / "conf/model/yolov3-tiny.yaml").read_text())["name"] == "yolov3-tiny"
