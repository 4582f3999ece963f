"""Stage screen: drop near-duplicate and blurry frames before they cost inference."""

from pathlib import Path

from framehound.screen.run import screen_all
from framehound.stage import run_stage


def main(params: dict) -> str:
    return screen_all(params["screen"], Path("data/extract/frames.parquet"), Path("data/fetch/videos.csv"),
                      Path("data/screen"), Path("metrics/screen.json"))


if __name__ == "__main__":
    run_stage("screen", main)
