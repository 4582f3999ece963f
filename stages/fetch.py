"""Stage fetch: download or copy every fetch.sources entry into data/videos/."""

from pathlib import Path

from framehound.fetch.run import fetch_videos
from framehound.stage import run_stage


def main(params: dict) -> str:
    return fetch_videos(params["fetch"], Path("data/videos"), Path("data/fetch"))


if __name__ == "__main__":
    run_stage("fetch", main)
