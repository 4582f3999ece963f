"""Stage fetch: download or copy every fetch.sources entry into data/videos/."""

from pathlib import Path

from framehound.executor import RayCluster
from framehound.fetch.run import fetch_videos
from framehound.layout import paths
from framehound.params import Params
from framehound.stage import run_stage


def main(params: Params) -> str:
    cluster = RayCluster(params.executor.address, params.executor.workers) if params.executor.kind == "ray" else None
    return fetch_videos(params.fetch, Path(paths.videos), Path(paths.fetch), cluster)


if __name__ == "__main__":
    run_stage("fetch", main)
