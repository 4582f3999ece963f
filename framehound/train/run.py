"""The train stage: fine-tune the model on data/dataset, write the model folder, metrics and plots.

``train.epochs: 0`` (the default) trains nothing: the stage writes a note in
place of the model, ``{"epochs": 0}`` as metrics and an empty plot, without
importing PyTorch, so the default ``dvc repro`` stays as fast as before.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from framehound.atomic import atomic_path, write_json, write_text
from framehound.darknet.cfg import read_names
from framehound.errors import FramehoundError
from framehound.params import TrainParams

log = logging.getLogger("framehound")

COLUMNS = ("epoch", "loss", "box", "obj", "cls", "lr", "map50", "map")
SKIPPED = """No model was trained: train.epochs is 0 in params.yaml, so `dvc repro` stays fast.
To fine-tune the model on data/dataset:  dvc exp run -S train.epochs=30
The model then lands in data/train/model/ (model.cfg, model.weights, model.names).
"""


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _plot(history: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _rounded(row[k]) for k in COLUMNS} for row in history)
    return out.getvalue()


def train_all(params: TrainParams, classes: list[str], base_model: Path, dataset: Path, out: Path,
              metrics: Path, plot: Path) -> str:
    """Run the stage; return its summary line."""
    if params.epochs == 0:
        with atomic_path(out, directory=True) as folder:
            write_text(folder / "README.txt", SKIPPED)
        write_json(metrics, {"epochs": 0})
        write_text(plot, _plot([]))
        return "skipped: train.epochs is 0 (dvc exp run -S train.epochs=30 trains)"
    names = read_names((dataset / "obj.names").read_text(encoding="utf-8")) if (dataset / "obj.names").is_file() \
        else []
    if names != classes:
        raise FramehoundError(f"{dataset}/obj.names: lists {names}, filter.classes is {classes} (re-run split)")
    try:
        import torch  # noqa: F401
    except ImportError:
        raise FramehoundError("train: needs PyTorch and pycocotools: pip install -r requirements-gpu.txt") from None
    from framehound.train.export import export_model
    from framehound.train.loop import fit

    def report(row: dict) -> None:
        log.info("epoch %d: loss %.3f (box %.3f, obj %.3f, cls %.3f), val mAP@0.5 %s", row["epoch"], row["loss"],
                 row["box"], row["obj"], row["cls"], "n/a" if row["map50"] is None else f"{row['map50']:.3f}")

    trained = fit(params, base_model, dataset, on_epoch=report)
    with atomic_path(out, directory=True) as folder:
        export_model(trained.net, trained.cfg, trained.classes, trained.seen, folder / "model")
    write_json(metrics, _rounded({"epochs": params.epochs, "images": trained.images, "map50": trained.after["map50"],
                                  "map": trained.after["map"], "map50_before": trained.before["map50"],
                                  "per_class": trained.after["per_class"]}))
    write_text(plot, _plot(trained.history))
    if trained.images["val"] == 0:
        log.warning("the val split is empty: no mAP (more videos, or other split ratios)")
    after = "n/a" if trained.after["map50"] is None else f"{trained.after['map50']:.3f}"
    before = "n/a" if trained.before["map50"] is None else f"{trained.before['map50']:.3f}"
    return (f"{params.epochs} epochs on {trained.images['train']} images, {trained.seen / trained.seconds:.1f} "
            f"images/s, val mAP@0.5 {before} -> {after}, model in {out / 'model'}")
