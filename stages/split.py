"""Stage split: write the train/val/test dataset in Darknet/YOLO layout."""

from pathlib import Path

from framehound.split.run import split_all
from framehound.stage import run_stage


def main(params: dict) -> str:
    return split_all(params["split"], params["filter"]["classes"], Path("data/filter"),
                     Path("data/dataset"), Path("metrics/dataset.json"))


if __name__ == "__main__":
    run_stage("split", main)
