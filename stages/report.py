"""Stage report: data/report/index.html, the page to judge the dataset by eye."""

from pathlib import Path

from framehound.layout import paths
from framehound.params import Params
from framehound.report.run import report_all
from framehound.stage import run_stage


def main(params: Params) -> str:
    return report_all(params, Path(paths.extract_frames), Path(paths.quality), Path(paths.filter),
                      Path(paths.attribution), Path(paths.metrics_quality), Path(paths.threshold_sweep),
                      Path(paths.report), Path(paths.detect_runtime))


if __name__ == "__main__":
    run_stage("report", main)
