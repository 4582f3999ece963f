"""evaluate: metrics/quality.json, the dataset's labels scored against ground truth.

Scored on the ground-truth images that are in the dataset: what a trainer
sees. How many ground-truth images the run sampled and kept is reported too,
since a dataset can be precise by keeping few images.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from framehound import tables
from framehound.atomic import write_json
from framehound.boxes import boxes_by_frame
from framehound.errors import FramehoundError
from framehound.evaluate.groundtruth import GroundTruth, class_mismatches, read_groundtruth
from framehound.evaluate.identity import compare_pictures
from framehound.evaluate.scores import IOUS, ImageScore, score_image, summarize
from framehound.evaluate.sweep import ALL, best_f1, operating_point, sweep
from framehound.layout import paths
from framehound.params import EvaluateParams

log = logging.getLogger("framehound")


def scored_classes(truth: GroundTruth, classes: list[str]) -> list[str]:
    """The dataset's classes the ground truth has boxes of; none is an error, not a perfect score."""
    scored = [c for c in classes if c in truth.classes]
    if not scored:
        raise FramehoundError(f"the ground truth has none of the dataset's classes ({', '.join(classes)}); "
                              f"it has {', '.join(truth.classes)}")
    return scored


def score_dataset(truth: GroundTruth, sampled: pd.DataFrame, kept: pd.DataFrame, labels: pd.DataFrame,
                  unlabelled: pd.DataFrame, classes: list[str]) -> tuple[dict, list[ImageScore]]:
    """Quality figures of the labels of ``kept`` frames that have ground truth, and each such image's score."""
    scored = scored_classes(truth, classes)
    boxes, masks = boxes_by_frame(labels), boxes_by_frame(unlabelled[unlabelled["outcome"] == "masked"])
    scores = []
    for frame in kept[kept["frame_id"].isin(truth.sizes)].sort_values("frame_id").itertuples(index=False):
        required, ignored = truth.boxes_on(frame.frame_id, int(frame.width), int(frame.height))
        scores.append(score_image(frame.frame_id, required, ignored, boxes.get(frame.frame_id, []),
                                  masks.get(frame.frame_id, []), (int(frame.width), int(frame.height)), scored))
    figures = {"classes_scored": scored,
               "groundtruth_images": len(truth.sizes),
               "groundtruth_images_sampled": int(sampled["frame_id"].isin(truth.sizes).sum())}
    figures |= summarize(scores, scored)
    figures["incomplete_images"] = [s.frame_id for s in scores if not s.complete]
    return figures, scores


def score_filter_outputs(truth: GroundTruth, sampled_parquet: Path, filter_dir: Path, classes: list[str],
                         root: Path = Path(".")) -> tuple[dict, list[ImageScore]]:
    """``score_dataset`` on the tables filter wrote (the stage and ``framehound evaluate`` read the same), on
    the frames whose picture is the ground truth's (``framehound.evaluate.identity``)."""
    sampled = tables.read_table(sampled_parquet, tables.FRAMES)
    pictures = compare_pictures(truth, sampled, root)
    for problem in class_mismatches(truth, classes):
        log.warning("ground truth: %s", problem)
    kept = tables.read_table(filter_dir / "frames.parquet", tables.FRAMES)
    figures, scores = score_dataset(truth, sampled[~sampled["frame_id"].isin(pictures.other)],
                                    kept[~kept["frame_id"].isin(pictures.other)],
                                    tables.read_table(filter_dir / "labels.parquet", tables.LABELS),
                                    tables.read_table(filter_dir / "unlabelled.parquet", tables.UNLABELLED), classes)
    return figures | pictures.figures(), scores


def scored_rows(scores: list[ImageScore]) -> pd.DataFrame:
    """data/evaluate/images.csv: one row a ground-truth image of the dataset, to see which images fall short."""
    rows = [{"frame_id": s.frame_id, "groundtruth_boxes": sum(s.required.values()),
             "labels": sum(n for (_, t), n in s.labels.items() if t == IOUS[0]),
             "matched": sum(n for (_, t), n in s.matched.items() if t == IOUS[0]),
             "missed": len(s.missed), "masked": s.masked, "complete": int(s.complete)} for s in scores]
    return pd.DataFrame(rows, columns=list(tables.SCORED_IMAGES.columns))


def evaluate_all(params: EvaluateParams, classes: list[str], min_confidence: float, sampled_parquet: Path,
                 filter_dir: Path, detections_parquet: Path, metrics_path: Path, images_csv: Path,
                 sweep_csv: Path) -> str:
    """Write ``metrics_path``, ``images_csv`` and ``sweep_csv``; without ground truth they say so (empty tables).

    The extra ground-truth files are scored the same way and reported beside the first, which stays
    the headline (its images are the ones ``images_csv`` and the sweep describe).
    """
    images_csv.parent.mkdir(parents=True, exist_ok=True)
    if params.groundtruth is None:
        tables.write_table(tables.empty(tables.SCORED_IMAGES), images_csv, tables.SCORED_IMAGES)
        tables.write_table(tables.empty(tables.SWEEP), sweep_csv, tables.SWEEP)
        write_json(metrics_path, {"groundtruth": None})
        return "no ground truth (evaluate.groundtruth is null)"
    truth = read_groundtruth(Path(params.groundtruth))
    figures, scores = score_filter_outputs(truth, sampled_parquet, filter_dir, classes)
    sampled = tables.read_table(sampled_parquet, tables.FRAMES)
    same = sampled[~sampled["frame_id"].isin(figures["groundtruth_images_other_picture"])]  # as scored above
    curve = sweep(truth, same, tables.read_table(detections_parquet, tables.DETECTIONS), classes)
    figures["threshold_sweep"] = operating_figures(curve, min_confidence, params.target_precision)
    figures["extra"] = {path: score_filter_outputs(read_groundtruth(Path(path)), sampled_parquet, filter_dir,
                                                   classes)[0] for path in params.extra_groundtruth}
    tables.write_table(scored_rows(scores), images_csv, tables.SCORED_IMAGES)
    tables.write_table(curve, sweep_csv, tables.SWEEP)
    write_json(metrics_path, {"groundtruth": params.groundtruth} | figures)
    return headline(figures) + "".join(f"; {Path(p).parent.name}: " + headline(f, short=True)
                                       for p, f in figures["extra"].items())


def operating_figures(curve: pd.DataFrame, min_confidence: float, target_precision: float) -> dict:
    """Where filter.min_confidence sits on the labeler's curve, and the threshold the target precision needs."""
    every = curve[curve["class_name"] == ALL]
    here = every.iloc[(every["threshold"] - min_confidence).abs().argsort().iloc[0]]
    best = best_f1(curve)
    return {"min_confidence": min_confidence, "precision": here["precision"], "recall": here["recall"],
            "target_precision": target_precision,
            "threshold_for_target": operating_point(curve, target_precision),
            "best_f1": best["f1"], "best_f1_threshold": best["threshold"]}


def headline(figures: dict, short: bool = False) -> str:
    """One line of the figures that matter most."""
    def show(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    other = figures.get("groundtruth_images_other_picture", [])
    sampled = figures["groundtruth_images_sampled"]
    why = "" if figures["images"] else (f" (filter kept none of the {sampled} this run sampled)" if sampled
                                        else " (none of their file names is a frame id of this run)")
    where = "" if short else " ground-truth images in the dataset"
    return (f"{figures['images']} of {figures['groundtruth_images']}{where}{why}: "
            f"precision@0.5 {show(figures['precision@0.5'])}, recall@0.5 {show(figures['recall@0.5'])}, "
            f"mean IoU {show(figures['mean_iou'])}, complete images {figures['complete_images']}/{figures['images']}"
            + (f"; {len(other)} not scored: this run's frame of that id shows another picture (extract params "
               f"changed? docs/quality.md), e.g. {other[0]}" if other else "")
            + (f"; {unverified} scored by frame id alone (no picture beside the ground truth to compare)"
               if (unverified := figures.get("groundtruth_images_unverified")) else ""))


def evaluate_project(root: Path, groundtruth: Path, classes: list[str]) -> dict:
    """``framehound evaluate``: this project's current labels (data/filter) against any ground-truth file."""
    truth = read_groundtruth(groundtruth)
    filtered = root / paths.filter
    if not (filtered / "unlabelled.parquet").is_file():
        raise FramehoundError(f"{filtered}: no filter output; run the pipeline up to filter first (dvc repro filter)")
    return score_filter_outputs(truth, root / paths.screen_frames, filtered, classes, root)[0]


def sweep_project(root: Path, groundtruth: Path, classes: list[str]) -> pd.DataFrame:
    """``framehound evaluate --sweep``: this project's detections (data/detect) at every threshold."""
    truth = read_groundtruth(groundtruth)
    detections = root / paths.detections
    if not detections.is_file():
        raise FramehoundError(f"{detections}: no detections; run the pipeline up to detect first (dvc repro detect)")
    scored = scored_classes(truth, classes)
    sampled = tables.read_table(root / paths.screen_frames, tables.FRAMES)
    other = compare_pictures(truth, sampled, root).other  # a frame showing another picture is never scored
    return sweep(truth, sampled[~sampled["frame_id"].isin(other)], tables.read_table(detections, tables.DETECTIONS),
                 scored)
