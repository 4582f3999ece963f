"""Stage split: write the train/val/test dataset in the formats of split.formats."""

from pathlib import Path

from framehound.split.run import split_all
from framehound.stage import run_stage


def main(params: dict) -> str:
    return split_all(params["split"], params["filter"]["classes"], Path("data/filter"),
                     Path("data/fetch/videos.csv"), Path("data/screen/groups.parquet"), Path("data/dataset"),
                     Path("metrics/dataset.json"), Path("plots"),
                     (Path("metrics/screen.json"), Path("metrics/filter.json")))


if __name__ == "__main__":
    run_stage("split", main)
