"""params.yaml is composed from conf/ and validated before any work."""

from __future__ import annotations

import copy
import os
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest
import yaml

from framehound import preflight
from framehound.errors import FramehoundError
from framehound.params import EvaluateParams, ModelFile, ScreenParams, load, validate
from tests.conftest import REPO


def compose(overrides: list[str], conf: Path = REPO / "conf") -> dict:
    """params.yaml as DVC composes it from ``conf`` with ``-S`` overrides."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(str(conf), version_base=None):
        cfg = hydra_compose(config_name="config", overrides=overrides)
    return OmegaConf.to_container(cfg, resolve=True)


def test_committed_params_equal_the_composition_of_conf():
    committed = yaml.safe_load((REPO / "params.yaml").read_text())
    assert committed == compose([])


@pytest.mark.parametrize("overrides", [["source=youtube_dogs"], ["model=yolov3"], ["model=custom"], ["model=yolov4"],
                                       ["model=yolov4-tiny"], ["model=yolov7-tiny"]])
def test_every_preset_composes_into_valid_params(overrides):
    validate(compose(overrides))


def test_youtube_preset_searches_for_dogs():
    params = compose(["source=youtube_dogs"])
    assert params["filter"]["classes"] == ["dog"]
    assert params["fetch"]["sources"][0].startswith("ytsearch")


def _broken(default_params: dict, path: str, value: object) -> dict:
    params = copy.deepcopy(default_params.as_dict())
    *parents, leaf = path.split(".")
    node = params
    for key in parents:
        node = node[key]
    node[leaf] = value
    return params


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("filter.min_confidnce", 0.5, "filter.min_confidnce: unknown key (did you mean filter.min_confidence?)"),
        ("filter.dedup_distance", 4, "filter.dedup_distance: moved to screen.dedup_distance"),
        ("filter.min_sharpness", 10, "filter.min_sharpness: moved to screen.min_sharpness"),
        ("screen.min_sharpness", -1, "screen.min_sharpness: must be in [0, 1000000], got -1"),
        ("filter.zzz", 0.5, "filter.zzz: unknown key (expected one of classes, min_confidence,"),
        ("extract.fps", "fast", "extract.fps: must be a number"),
        ("extract.max_side", True, "extract.max_side: must be an integer"),
        ("model.name", "..",
         "model.name: must be a plain folder name (letters, digits, . _ -; no leading dot), got '..'"),
        ("extract.mode", "iframes", "extract.mode: must be one of fps, keyframes, scenes, got 'iframes'"),
        ("extract.scene_threshold", 0, "extract.scene_threshold: must be in (0, 1], got 0"),
        ("detect.half", 1, "detect.half: must be true or false"),
        ("detect.input_size", 400, "detect.input_size: must be a multiple of 32"),
        ("detect.backend", "tpu", "detect.backend: must be one of auto, opencv, opencv-cuda, torch, openvino"),
        ("detect.precision", "fp16", "detect.precision: must be one of auto, fp32, bf16, int8, got 'fp16'"),
        ("split.train", 0.9, "split.train + split.val + split.test: must sum to 1, got 1.2"),
        ("filter.classes", [], "filter.classes: must list at least one entry"),
        ("train.epochs", -1, "train.epochs: must be in [0, 10000], got -1"),
        ("train.batch_size", 1, "train.batch_size: must be in [2, 1024], got 1"),
        ("train.image_size", 100, "train.image_size: must be a multiple of 32 between 64 and 2048, got 100"),
        ("train.learning_rate", 0, "train.learning_rate: must be in (0, 1], got 0"),
        ("train.learning_rate", "1e-3", "train.learning_rate: must be a number, got '1e-3'"),
        ("train.seed", 1.5, "train.seed: must be an integer, got 1.5"),
        ("train.seed", -1, "train.seed: must be in [0, 4294967295], got -1"),
        ("executor.address", "my-cluster", "executor.address: must be auto, host:port or ray://host:port, got 'my-"),
        ("executor.address", "ray://head:99999", "executor.address: must be auto, host:port or ray://host:port"),
        ("split.seed", -1, "split.seed: must be in [0, 4294967295], got -1"),
        ("filter.seed", 2**32, "filter.seed: must be in [0, 4294967295], got 4294967296"),
        ("filter.new_classes", ["fork\nlift"], "filter.new_classes: 'fork\\nlift' must be a plain name (no line "
         "breaks or other control characters, no leading or trailing space, no < or >)"),
        ("filter.new_classes", ["pallet "], "filter.new_classes: 'pallet ' must be a plain name"),
        ("filter.new_classes", ["</script><script>alert(3)</script>"], "filter.new_classes: '</script>"),
        ("filter.classes", ["person", "\tcar"], "filter.classes: '\\tcar' must be a plain name"),
        ("train.device", "gpu", "train.device: must be one of auto, cpu, cuda, got 'gpu'"),
        ("train.epoch", 3, "train.epoch: unknown key (did you mean train.epochs?)"),
                ("model.weights.sha256", "abc", "model.weights.sha256: must be 64 lowercase hex digits"),
    ],
)
def test_bad_params_name_the_key(default_params, path, value, message):
    with pytest.raises(FramehoundError) as error:
        validate(_broken(default_params, path, value))
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("backend", ["opencv", "opencv-cuda", "torch"])
def test_bf16_with_a_backend_that_cannot_run_it_is_refused_by_check(default_params, backend):
    params = _broken(default_params, "detect.precision", "bf16")
    params["detect"]["backend"] = backend
    with pytest.raises(FramehoundError, match=rf"^detect.precision: bf16 runs on the openvino backend only, "
                                              rf"not {backend} \(use backend auto or openvino, or precision fp32\)$"):
        validate(params)


def test_missing_key_is_named(default_params):
    params = copy.deepcopy(default_params.as_dict())
    del params["split"]["seed"]
    with pytest.raises(FramehoundError, match=r"^split.seed: missing$"):
        validate(params)


def test_load_prefixes_the_file_name(tmp_path, default_params):
    bad = _broken(default_params, "split.val", -0.1)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(FramehoundError, match=rf"^{os.fspath(path)}: split.val: must be in"):
        load(path)


def test_a_source_fetch_cannot_use_is_named_by_the_check(default_params, tmp_path):
    bad = replace(default_params, fetch=replace(default_params.fetch, sources=["file:///etc/passwd"]))
    with pytest.raises(FramehoundError, match=r"^fetch.sources: \[0\] 'file:///etc/passwd': only http\(s\)"):
        preflight.check(bad, tmp_path)


def test_each_stage_reads_its_own_typed_section(default_params):
    assert isinstance(default_params.screen, ScreenParams)
    assert default_params.screen.dedup_distance == 4 and default_params.extract.fps == 4
    with pytest.raises(FrozenInstanceError):
        default_params.extract.fps = 8  # settings are read, never patched mid-run


def test_classes_are_checked_against_the_installed_model_only_when_it_is_the_one_params_name(
        model_dir, default_params, tmp_path):
    root = tmp_path  # <root>/models/<name>, as the model stage lays it out
    (root / "models").mkdir()
    (root / "models" / default_params.model.name).symlink_to(model_dir)
    no_truth = EvaluateParams(None)  # this test is about classes; the ground truth has its own
    unicorn = replace(validate(_broken(default_params, "filter.classes", ["person", "unicorn"])), evaluate=no_truth)
    with pytest.raises(FramehoundError, match=r"^filter.classes: unknown class 'unicorn' \(a class the model does not"):
        preflight.check(unicorn, root)
    assert preflight.check(replace(default_params, evaluate=no_truth), root) == ""
    other_names = replace(unicorn, model=replace(unicorn.model, names=ModelFile("/my/model.names", None)))
    assert "is not the .names params.yaml names" in preflight.check(other_names, root)
    assert "is not installed yet" in preflight.check(unicorn, root / "elsewhere")


@pytest.mark.parametrize(("content", "message"), [
    (None, "ground truth not found"),
    ("{not json", "not a readable COCO JSON file"),
    ('{"images": [], "annotations": []}', "not COCO ground truth: 'categories'"),
    ('{"images": [{"id": 1, "file_name": "a_0.jpg", "width": 10, "height": 10}], "categories": '
     '[{"id": 1, "name": "person"}], "annotations": [{"image_id": 1, "category_id": 1, "bbox": [1, 1, 0, 5]}]}',
     r"annotation #0 \(image 'a_0.jpg'\): empty or invalid bbox"),
])
def test_a_bad_ground_truth_file_stops_check_in_one_line(default_params, tmp_path, content, message):
    truth = tmp_path / "groundtruth" / "mine.json"
    truth.parent.mkdir()
    if content is not None:
        truth.write_text(content)
    params = replace(default_params, evaluate=EvaluateParams("groundtruth/mine.json"))
    with pytest.raises(FramehoundError, match=message) as caught:
        preflight.check(params, tmp_path)
    assert str(caught.value).startswith(str(truth)) and "\n" not in str(caught.value)


@pytest.mark.parametrize("path", ["/etc/truth.json", "groundtruth/../params.yaml", "data/truth.json"])
def test_the_ground_truth_must_lie_under_groundtruth(default_params, path):
    raw = _broken(default_params, "evaluate.groundtruth", path)
    with pytest.raises(FramehoundError, match=r"^evaluate.groundtruth: must be a file under groundtruth/"):
        validate(raw)
