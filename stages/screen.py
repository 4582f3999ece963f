"""Stage screen: drop near-duplicate and blurry frames before they cost inference."""

from pathlib import Path

from framehound.layout import paths
from framehound.params import Params
from framehound.screen.run import screen_all
from framehound.stage import run_stage


def main(params: Params) -> str:
    return screen_all(params.screen, Path(paths.extract_frames), Path(paths.videos_table),
                      Path(paths.screen), Path(paths.metrics_screen))


if __name__ == "__main__":
    run_stage("screen", main)
