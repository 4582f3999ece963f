"""Which filter.incomplete policy and threshold? Complete images against images kept, on the ground truth.

    dvc repro filter && python bench/quality.py [--confidences 0.05 0.1 0.25] [--min-confidences 0.15 0.2]

Re-runs filter's selection on this project's detections (data/detect) for
each policy and ``filter.incomplete_confidence``, everything else as in
params.yaml, and scores the labels of the ground-truth images the dataset
keeps (evaluate.groundtruth). No inference: a whole table takes seconds.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from framehound import tables
from framehound.darknet.cfg import read_names
from framehound.evaluate.groundtruth import read_groundtruth
from framehound.evaluate.run import score_dataset
from framehound.filter.rules import select
from framehound.layout import paths
from framehound.model.install import model_dir
from framehound.params import INCOMPLETE_POLICIES, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--confidences", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.25],
                        help="filter.incomplete_confidence values")
    parser.add_argument("--min-confidences", type=float, nargs="+", default=None,
                        help="filter.min_confidence values (default: params.yaml's)")
    parser.add_argument("--policies", nargs="+", default=["mask", "drop", "keep"],
                        choices=[p for p in INCOMPLETE_POLICIES if p != "review"])
    args = parser.parse_args(argv)
    params = load(paths.params)
    if params.evaluate.groundtruth is None:
        print("evaluate.groundtruth is null: nothing to measure against", file=sys.stderr)
        return 1
    truth = read_groundtruth(Path(params.evaluate.groundtruth))
    names = read_names((model_dir(Path("."), params) / "model.names").read_text(encoding="utf-8"))
    frames = tables.read_table(paths.screen_frames, tables.FRAMES)
    detections = tables.read_table(paths.detections, tables.DETECTIONS)
    in_truth = frames["frame_id"].isin(truth.sizes)
    print(f"{int(in_truth.sum())} ground-truth frames of {len(frames)} in this run; policy 'review' is 'drop' "
          "until a person decides")
    print("| policy | min conf | incomplete conf | images | gt images | complete | P@0.5 | R@0.5 | R counting masked "
          "| P@0.75 | mean IoU | masked objects | grey mean | grey max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for policy in args.policies:
        for minimum in args.min_confidences or [params.filter.min_confidence]:
            for confidence in args.confidences:
                chosen = replace(params.filter, incomplete=policy, incomplete_confidence=confidence,
                                 min_confidence=minimum)
                selection = select(detections, frames, chosen, names)
                f, _ = score_dataset(truth, frames, selection.frames, selection.labels, selection.unlabelled,
                                     params.filter.dataset_classes)
                print(f"| {policy} | {minimum:.2f} | {confidence:.2f} | {len(selection.frames)} | {f['images']} "
                      f"| {f['complete_images']} ({f['complete_image_rate'] or 0:.2f}) | {f['precision@0.5'] or 0:.3f} "
                      f"| {f['recall@0.5'] or 0:.3f} | {f['recall@0.5_counting_masked'] or 0:.3f} "
                      f"| {f['precision@0.75'] or 0:.3f} | {f['mean_iou'] or 0:.3f} "
                      f"| {f['masked_objects']} ({f['masked_object_share'] or 0:.2f}) | {f['grey_mean'] or 0:.3f} "
                      f"| {f['grey_max'] or 0:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
