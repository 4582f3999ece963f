"""``framehound promote``: freeze the trained model as a model preset, so detect can use it on the next videos.

detect cannot read train's output in one DVC graph (train depends on split,
which depends on detect), so the loop closes between runs: promote copies
data/train/model/{model.cfg,model.weights,model.names} into
``models-promoted/<name>/``, tracks that folder with ``dvc add`` (in a DVC
repository), and writes ``conf/model/<name>.yaml`` naming the three files by
local path with their sha256. ``dvc exp run -S model=<name>`` then installs it
like any model preset, checksums verified.

DVC rather than git for the files: a model is tens of MB of weights, one more
copy at every promotion, and git would carry every version in every clone
forever; DVC keeps a 100-byte pointer in git and the bytes in its cache and
remote, pushed and pulled with the dataset.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from framehound.atomic import atomic_path, write_text
from framehound.errors import FramehoundError
from framehound.hashing import sha256_file
from framehound.layout import paths
from framehound.model.install import ROLES
from framehound.params import folder_name

PROMOTED = "models-promoted"  # an input of the model stage like conf/, not pipeline data: not in layout.py
PRESETS = "conf/model"
MARK = "# Written by `framehound promote`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``promote`` subcommand's arguments."""
    parser.add_argument("name", nargs="?",
                        help="the preset's name, for -S model=NAME (default: trained-<first 8 hex of the weights' "
                             "sha256>)")
    parser.add_argument("--force", action="store_true", help="replace a preset promote wrote before under NAME")
    parser.add_argument("--root", default=".", help="the framehound repository (default: .)")


def _provenance(root: Path) -> list[str]:
    """Comment lines saying what the model was trained from, as far as the workspace tells."""
    lines = []
    try:
        params = yaml.safe_load((root / paths.params).read_text(encoding="utf-8"))
        classes = [*params["filter"]["classes"], *params["filter"].get("new_classes", [])]
        lines.append(f"# Fine-tuned from model {params['model']['name']} for {params['train']['epochs']} epochs "
                     f"on the classes {', '.join(classes)}.")
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        pass
    try:
        metrics = json.loads((root / paths.metrics_train).read_text(encoding="utf-8"))
        lines.append(f"# val mAP@0.5 {metrics['map50_before']} before training, {metrics['map50']} after.")
    except (OSError, KeyError, TypeError, ValueError):
        pass
    return lines


def _preset(name: str, folder: str, digests: dict[str, str], provenance: list[str]) -> str:
    body = {"name": name, **{role: {"uri": f"{folder}/model.{role}", "sha256": digests[role]} for role in ROLES}}
    return "\n".join([MARK, *provenance, yaml.safe_dump(body, sort_keys=False)])


def _run(command: list[str], root: Path) -> None:
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if result.returncode:
        lines = [ln for ln in (result.stderr or result.stdout).splitlines() if ln.strip()]
        raise FramehoundError(f"promote: {' '.join(command)} failed: {lines[-1] if lines else result.returncode}")


def promote(root: Path, name: str | None = None, force: bool = False) -> str:
    """Copy the trained model to models-promoted/<name>/, track it, write its preset; return a summary line."""
    source = root / paths.train_model
    missing = [f"model.{r}" for r in ROLES if not (source / f"model.{r}").is_file()]
    if missing:
        raise FramehoundError(f"promote: no trained model in {paths.train_model}/ (no {missing[0]}): train one "
                              "first, e.g. dvc exp run -S train.epochs=30 (train.epochs 0 trains nothing)")
    digests = {role: sha256_file(source / f"model.{role}") for role in ROLES}
    name = f"trained-{digests['weights'][:8]}" if name is None else name
    if problem := folder_name(name):
        raise FramehoundError(f"promote: NAME {problem}")
    twin = next((p.stem for p in sorted((root / PRESETS).glob("*.yaml")) if p.stem.lower() == name.lower()
                 and p.stem != name), None)
    if twin:
        raise FramehoundError(f"promote: NAME {name!r} differs only in case from the preset {twin!r} "
                              "(one file on case-insensitive filesystems); choose another name")
    preset, folder = root / PRESETS / f"{name}.yaml", root / PROMOTED / name
    if preset.exists() or folder.exists():
        if not force:
            raise FramehoundError(f"promote: model preset {name!r} exists ({PRESETS}/{name}.yaml); "
                                  "choose another name, or --force to replace it")
        if preset.exists() and not preset.read_text(encoding="utf-8").startswith(MARK):
            raise FramehoundError(f"promote: {PRESETS}/{name}.yaml was not written by promote; "
                                  "choose another name (--force replaces only promoted models)")
    with atomic_path(folder, directory=True) as staging:
        for role in ROLES:
            shutil.copyfile(source / f"model.{role}", staging / f"model.{role}")
    tracked = ""
    if (root / ".dvc").is_dir():
        # DVC is one of our own dependencies: run the one installed beside us, found or not on PATH.
        _run([sys.executable, "-m", "dvc", "add", "--quiet", f"{PROMOTED}/{name}"], root)
        tracked = f"; tracked by DVC in {PROMOTED}/{name}.dvc"
    write_text(preset, _preset(name, f"{PROMOTED}/{name}", digests, _provenance(root)))
    return (f"promoted {paths.train_model}/ to {PROMOTED}/{name}/{tracked}; preset {PRESETS}/{name}.yaml. "
            f"Commit both (git add {PRESETS}/{name}.yaml {PROMOTED}), then: dvc exp run -S model={name}")
