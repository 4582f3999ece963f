"""Darknet's files: ``darknet detector train obj.data <model>.cfg <model>.conv.<n>`` runs in data/dataset as is.

- Each label also beside its image, as a hard link to ``labels/<split>/<frame>.txt``
  (no second copy on disk): the maintained Darknet (AlexeyAB, Hank.ai) looks
  for it there, the original (pjreddie) maps ``images/`` to ``labels/``.
- ``backup/``, where obj.data tells Darknet to save weights: Darknet does not
  create it and stops when it cannot save. A note in it keeps the folder in DVC,
  which tracks files, not empty folders.
- ``<model>.cfg``: the model's cfg with the dataset's classes in its [yolo]
  layers and the filters before them, and training batches in [net].
- ``<model>.conv.<n>``: the model's pretrained layers before the head, what
  ``darknet partial`` cuts, so training starts from the backbone.
"""

from __future__ import annotations

import os
from pathlib import Path

from framehound.darknet.cfg import parse_cfg, render_cfg
from framehound.darknet.layers import backbone_weights, resize_head
from framehound.split.assign import SPLITS, Walk

BACKUP_NOTE = """Darknet saves weights here while it trains (obj.data: backup = backup/).
The split stage replaces data/dataset when it re-runs, this folder included: copy weights you keep elsewhere.
"""


def training_cfg(model_cfg: str, classes: int, train_images: int) -> str:
    """The model's cfg for training on ``classes`` classes, with the maintained Darknet's advice for [net].

    64 images a batch in 16 mini-batches; ``max_batches`` 2000 a class, at least
    6000 and the number of train images; the learning rate steps down at 80% and 90% of it.
    """
    sections = parse_cfg(resize_head(model_cfg, classes))
    batches = max(2000 * classes, 6000, train_images)
    sections[0].options |= {"batch": "64", "subdivisions": "16", "max_batches": str(batches),
                            "steps": f"{batches * 8 // 10},{batches * 9 // 10}"}
    return render_cfg(sections)


def write_darknet(root: Path, walk: Walk, classes: list[str], base_model: Path | None) -> None:
    """obj.data, labels beside images, backup/, and the cfg and backbone weights of the model in ``base_model``."""
    if base_model is None:
        raise ValueError("the darknet format starts from a model: pass base_model")
    for split in SPLITS:
        for frame, _ in walk[split]:
            name = f"{split}/{frame.frame_id}.txt"
            os.link(root / "labels" / name, root / "images" / name)
    (root / "backup").mkdir()
    (root / "backup" / "README.txt").write_text(BACKUP_NOTE)
    (root / "obj.data").write_text(f"classes = {len(classes)}\ntrain = train.txt\nvalid = val.txt\n"
                                   f"names = obj.names\nbackup = backup/\n")
    model = base_model.name
    cfg = (base_model / "model.cfg").read_text(encoding="utf-8")
    (root / f"{model}.cfg").write_text(training_cfg(cfg, len(classes), len(walk["train"])))
    layers, weights = backbone_weights(cfg, base_model / "model.weights")
    (root / f"{model}.conv.{layers}").write_bytes(weights)
