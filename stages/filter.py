"""Stage filter: keep frames showing filter.classes; write the labels table."""

from pathlib import Path

from framehound.filter.run import filter_all
from framehound.model.install import model_dir
from framehound.stage import run_stage


def main(params: dict) -> str:
    return filter_all(params["filter"], model_dir(Path("."), params),
                      Path("data/screen/frames.parquet"), Path("data/detect/detections.parquet"),
                      Path("data/filter"), Path("metrics/filter.json"))


if __name__ == "__main__":
    run_stage("filter", main)
