"""Stage screen: drop near-duplicate and blurry frames before they cost inference."""

from pathlib import Path

from framehound.executor import open_executor
from framehound.layout import paths
from framehound.params import Params
from framehound.screen.run import screen_all
from framehound.stage import run_stage


def main(params: Params) -> str:
    with open_executor(params.executor) as executor:
        return screen_all(params.screen, Path(paths.extract_frames), Path(paths.videos_table), Path(paths.screen),
                          Path(paths.screen_cache), Path(paths.metrics_screen), executor,
                          ship=params.executor.kind == "ray")


if __name__ == "__main__":
    run_stage("screen", main)
