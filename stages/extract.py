"""Stage extract: sample frames from data/videos/ into data/frames/."""

from pathlib import Path

from framehound.executor import open_executor
from framehound.extract.run import extract_all
from framehound.layout import paths
from framehound.params import Params
from framehound.stage import run_stage


def main(params: Params) -> str:
    with open_executor(params.executor) as executor:
        return extract_all(params.extract, Path(paths.videos_table), Path(paths.frames), Path(paths.extract),
                           executor, ship_videos=params.executor.kind == "ray")


if __name__ == "__main__":
    run_stage("extract", main)
