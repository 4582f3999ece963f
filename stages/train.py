"""Stage train: fine-tune the model on the dataset (opt-in: train.epochs 0 skips it)."""

from pathlib import Path

from framehound.layout import paths
from framehound.model.install import model_dir
from framehound.params import Params
from framehound.stage import run_stage
from framehound.train.run import train_all


def main(params: Params) -> str:
    return train_all(params.train, params.filter.dataset_classes, model_dir(Path("."), params), Path(paths.dataset),
                     Path(paths.train), Path(paths.metrics_train), Path(paths.plots_train))


if __name__ == "__main__":
    run_stage("train", main)
