"""Stage detect: every box above detect.conf_floor in every frame."""

from pathlib import Path

from framehound.detect.run import detect_all
from framehound.model.install import model_dir
from framehound.stage import run_stage


def main(params: dict) -> str:
    return detect_all(params["detect"], model_dir(Path("."), params),
                      Path("data/screen/frames.parquet"), Path("data/detect"), Path("data/detect-cache"))


if __name__ == "__main__":
    run_stage("detect", main)
