"""Stage extract: sample frames from data/videos/ into data/frames/."""

from pathlib import Path

from framehound.extract.run import extract_all
from framehound.layout import paths
from framehound.params import Params
from framehound.stage import run_stage


def main(params: Params) -> str:
    return extract_all(params.extract, Path(paths.videos_table), Path(paths.frames), Path(paths.extract))


if __name__ == "__main__":
    run_stage("extract", main)
