"""Stage evaluate: score the dataset's labels against hand-checked ground truth (evaluate.groundtruth)."""

from pathlib import Path

from framehound.evaluate.run import evaluate_all
from framehound.layout import paths
from framehound.params import Params
from framehound.stage import run_stage


def main(params: Params) -> str:
    return evaluate_all(params.evaluate, params.filter.dataset_classes, params.filter.min_confidence,
                        Path(paths.screen_frames), Path(paths.filter), Path(paths.detections),
                        Path(paths.metrics_quality), Path(paths.scored_images), Path(paths.threshold_sweep))


if __name__ == "__main__":
    run_stage("evaluate", main)
