"""Stage report: data/report/index.html, the page to judge the dataset by eye."""

from pathlib import Path

from framehound.report.run import report_all
from framehound.stage import run_stage


def main(params: dict) -> str:
    return report_all(params, Path("data/extract/frames.parquet"), Path("data/screen/quality.parquet"),
                      Path("data/filter"), Path("data/dataset/attribution.csv"), Path("data/report"))


if __name__ == "__main__":
    run_stage("report", main)
