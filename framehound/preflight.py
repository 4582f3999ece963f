"""Checks of valid params against the world, before any stage changes anything.

``params.validate`` judges the file's shape alone; these need a stage's
knowledge or the disk: each source must be one fetch understands, local
sources and URL lists must be readable, ``filter.classes`` must be names
the installed model knows and ``filter.new_classes`` no near miss of one,
and the ground truth (``evaluate.groundtruth``) must be readable.
The ``check`` stage and ``framehound check`` run them, so a bad path or
class stops ``dvc repro`` before fetch deletes a video or detect spends an
hour.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from framehound.darknet.cfg import read_names
from framehound.evaluate.groundtruth import class_mismatches, read_groundtruth
from framehound.fetch.sources import check_sources
from framehound.filter.rules import class_indices
from framehound.model.install import model_dir
from framehound.params import Params

log = logging.getLogger("framehound")


def check(params: Params, root: Path) -> str:
    """Raise FramehoundError on the first problem; return what could not be checked yet ("" if nothing)."""
    check_sources(params.fetch.sources)
    if params.evaluate.groundtruth is not None:
        truth = read_groundtruth(root / params.evaluate.groundtruth)
        for problem in class_mismatches(truth, params.filter.dataset_classes):
            log.warning("%s: %s", params.evaluate.groundtruth, problem)
    folder = model_dir(root, params)
    names = folder / "model.names"
    if not names.is_file():
        return f"filter.classes not checked: {names} is not installed yet (the model stage fetches it)"
    installed = json.loads((folder / "model.json").read_text(encoding="utf-8"))["files"]["names"]
    wanted = params.model.names
    if installed["uri"] != wanted.uri or wanted.sha256 not in (None, installed["sha256"]):
        return f"filter.classes not checked: {names} is not the .names params.yaml names (the model stage replaces it)"
    known = read_names(names.read_text(encoding="utf-8"))
    class_indices(params.filter.classes, known, params.filter.new_classes)
    return ""
