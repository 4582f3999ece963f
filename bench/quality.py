"""Which filter.incomplete policy and threshold? Complete images against images kept, on the ground truth.

    dvc repro filter && python bench/quality.py [--confidences 0.05 0.1 0.25]

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
    parser.add_argument("--confidences", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.25])
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
    print(f"{'policy':8} {'conf':>5} {'images':>7} {'gt imgs':>7} {'complete':>8} {'rate':>5} {'P@0.5':>6} "
          f"{'R@0.5':>6} {'IoU':>5}")
    for policy in [p for p in INCOMPLETE_POLICIES if p != "review"]:
        for confidence in args.confidences:
            chosen = replace(params.filter, incomplete=policy, incomplete_confidence=confidence)
            selection = select(detections, frames, chosen, names)
            figures, _ = score_dataset(truth, frames, selection.frames, selection.labels, selection.unlabelled,
                                       params.filter.dataset_classes)
            rate = figures["complete_image_rate"]
            print(f"{policy:8} {confidence:5.2f} {len(selection.frames):7d} {figures['images']:7d} "
                  f"{figures['complete_images']:8d} {rate if rate is not None else float('nan'):5.2f} "
                  f"{figures['precision@0.5'] or 0:6.3f} {figures['recall@0.5'] or 0:6.3f} "
                  f"{figures['mean_iou'] or 0:5.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
