"""Stage detect: every box above detect.conf_floor in every frame."""

from pathlib import Path

from framehound.detect.run import detect_all
from framehound.executor import ray_cluster
from framehound.layout import paths
from framehound.model.install import model_dir
from framehound.params import Params
from framehound.stage import run_stage


def main(params: Params) -> str:
    return detect_all(params.detect, model_dir(Path("."), params), Path(paths.screen_frames), Path(paths.detect),
                      Path(paths.detect_cache), ray_cluster(params.executor))


if __name__ == "__main__":
    run_stage("detect", main)
