"""Classes the model does not know: declared in filter.new_classes, drawn by people, carried by every export."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from framehound import preflight
from framehound.errors import FramehoundError
from framehound.params import load, validate
from framehound.review import cvat, labelstudio
from framehound.review.project import ReviewProject
from framehound.review.server import TOKEN_HEADER, create_app
from tests.test_review_project import build_project, filter_and_split

FORKLIFT = {"class_name": "forklift", "x_min": 100.0, "y_min": 50.0, "x_max": 180.0, "y_max": 230.0}


def _installed(root: Path) -> Path:
    """build_project's model folder with the model.json the model stage writes, so check reads its names."""
    params = load(root / "params.yaml")
    folder = root / "models" / params.model.name
    names = {"uri": params.model.names.uri, "sha256": params.model.names.sha256}  # as if these were COCO's
    (folder / "model.json").write_text(json.dumps({"name": params.model.name, "files": {"names": names}}))
    return root


def test_a_new_class_passes_check_is_drawn_in_review_and_reaches_every_export(tmp_path, model_dir):
    root = _installed(build_project(tmp_path / "repo", new_classes=["forklift"]))
    for name in ("model.cfg", "model.weights"):  # Darknet's export starts training from them
        shutil.copy2(model_dir / name, root / "models" / load(root / "params.yaml").model.name / name)
    params_file = root / "params.yaml"
    raw = yaml.safe_load(params_file.read_text())
    raw["split"]["formats"] = ["darknet", "coco"]
    params_file.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert preflight.check(load(params_file), root) == ""

    project = ReviewProject(root)
    assert project.classes == ["person", "car", "forklift"]
    assert not any(b.class_name == "forklift" for f in project.frames.values() for b in f.proposed + f.dimmed)
    client = create_app(project, "ann").test_client()
    token = client.get("/").get_data(as_text=True).split('name="review-token" content="')[1].split('"')[0]
    response = client.post("/api/decisions", json={"frame_id": "alpha_3000", "boxes": [FORKLIFT]},
                           headers={TOKEN_HEADER: token})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["decision"]["verdict"] == "edited"
    assert 'value="forklift"' in labelstudio.labeling_config(project.classes)
    assert "<name>forklift</name>" in cvat.export_xml(project, ["alpha_3000"], root / "reviews/images")

    labels = filter_and_split(root)
    assert labels["alpha_3000"] == ["2 0.437500 0.583333 0.250000 0.750000"]  # index 2: after filter.classes
    dataset = root / "data/dataset"
    assert (dataset / "obj.names").read_text() == "person\ncar\nforklift\n"
    assert (dataset / f"{load(root / 'params.yaml').model.name}.cfg").read_text().count("classes=3") == 2
    coco = [json.loads(p.read_text()) for p in (dataset / "annotations").glob("instances_*.json")]
    assert {c["name"]: c["id"] for c in coco[0]["categories"]} == {"person": 1, "car": 2, "forklift": 3}
    assert {a["category_id"] for doc in coco for a in doc["annotations"]} >= {3}
    kept = json.loads((root / "metrics/filter.json").read_text())
    assert kept["review"]["boxes"]["forklift"]["added"] == 1


@pytest.mark.parametrize(("classes", "new", "message"), [
    (["person", "dgo"], [], "filter.classes: unknown class 'dgo' (did you mean 'dog'? a class the model does not "
                            "know goes in filter.new_classes)"),
    (["person"], ["dgo"], "filter.new_classes: 'dgo' is too close to the model's class 'dog' (did you mean 'dog'? "
                          "a new class needs a name of its own)"),
    (["person"], ["cars"], "filter.new_classes: 'cars' is too close to the model's class 'car'"),
    (["person"], ["Dog"], "filter.new_classes: 'Dog' is too close to the model's class 'dog'"),
])
def test_a_typo_of_a_known_class_is_one_line_with_the_suggestion(tmp_path, classes, new, message):
    root = _installed(build_project(tmp_path, classes=classes, new_classes=new))
    with pytest.raises(FramehoundError) as caught:
        preflight.check(load(root / "params.yaml"), root)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("new", [["forklift"], ["bat", "pallet", "helmet"], ["dog"]])
def test_genuinely_new_names_and_names_the_model_knows_pass(tmp_path, new):
    root = _installed(build_project(tmp_path, new_classes=new))
    assert preflight.check(load(root / "params.yaml"), root) == ""


def test_a_class_listed_twice_is_refused(default_params):
    raw = default_params.as_dict()
    raw["filter"] = raw["filter"] | {"new_classes": ["car"]}
    with pytest.raises(FramehoundError, match=r"^filter.new_classes: 'car' is also in filter.classes"):
        validate(raw)
    assert replace(default_params.filter, new_classes=["forklift"]).dataset_classes == [
        "person", "bicycle", "car", "forklift"]
