"""Stage filter: keep frames showing filter.classes; write the labels table."""

from pathlib import Path

from framehound.filter.run import filter_all
from framehound.layout import paths
from framehound.model.install import model_dir
from framehound.params import Params
from framehound.stage import run_stage


def main(params: Params) -> str:
    return filter_all(params.filter, model_dir(Path("."), params), Path(paths.screen_frames),
                      Path(paths.detections), Path(paths.filter), Path(paths.metrics_filter))


if __name__ == "__main__":
    run_stage("filter", main)
