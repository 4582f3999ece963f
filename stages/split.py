"""Stage split: write the train/val/test dataset in the formats of split.formats."""

from pathlib import Path

from framehound.layout import paths
from framehound.params import Params
from framehound.split.run import split_all
from framehound.stage import run_stage


def main(params: Params) -> str:
    return split_all(params.split, params.filter.dataset_classes, Path(paths.filter), Path(paths.videos_table),
                     Path(paths.groups), Path(paths.dataset), Path(paths.metrics_dataset), Path(paths.plots),
                     (Path(paths.metrics_screen), Path(paths.metrics_filter)), Path(paths.models) / params.model.name)


if __name__ == "__main__":
    run_stage("split", main)
