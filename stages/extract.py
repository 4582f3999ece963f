"""Stage extract: sample frames from data/videos/ into data/frames/."""

from pathlib import Path

from framehound.extract.run import extract_all
from framehound.stage import run_stage


def main(params: dict) -> str:
    return extract_all(params["extract"], Path("data/fetch/videos.csv"),
                       Path("data/frames"), Path("data/extract"))


if __name__ == "__main__":
    run_stage("extract", main)
