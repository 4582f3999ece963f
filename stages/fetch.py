"""Stage fetch: download or copy every fetch.sources entry into data/videos/."""

from pathlib import Path

from framehound.executor import ray_cluster
from framehound.fetch.run import fetch_videos
from framehound.layout import paths
from framehound.params import Params
from framehound.stage import run_stage


def main(params: Params) -> str:
    return fetch_videos(params.fetch, Path(paths.videos), Path(paths.fetch), ray_cluster(params.executor))


if __name__ == "__main__":
    run_stage("fetch", main)
