"""Which labeler? Models, input sizes, mirroring and letterboxing, scored on the ground truth side by side.

    dvc repro screen && python bench/labeler.py [--models models/yolov4-tiny ...] [--backend opencv]

Runs each configuration over the ground-truth images this project sampled
(data/screen), then sweeps the confidence threshold (``evaluate.sweep``) and
prints, per configuration, its F1-best threshold with precision, recall, F1,
precision at IoU 0.75 and mean IoU there; the recall and threshold where
precision first reaches the target; the share of ground-truth objects with no
box at all above detect.conf_floor; and CPU time per image (one process, all
passes, 1 OpenCV thread unless --threads). Nothing is written to the project.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import cv2

from framehound import tables
from framehound.darknet.cfg import read_names
from framehound.detect.backends import choose_backend
from framehound.detect.inference import detect_frames
from framehound.detect.labeler import Labeler
from framehound.evaluate.groundtruth import read_groundtruth
from framehound.evaluate.sweep import best_f1, operating_point, sweep
from framehound.layout import paths
from framehound.params import load

CONFIGS = ["416", "416 letterbox", "416 × flip, letterbox", "416+320 × flip", "416+320 × flip, letterbox",
           "416+320+608 × flip, letterbox"]


def parse_config(name: str) -> tuple[int, list[int], bool, bool]:
    """``"416+320 × flip, letterbox"`` -> input size, extra sizes, flip, letterbox."""
    sizes = [int(s) for s in name.split()[0].split("+")]
    return sizes[0], sizes[1:], "flip" in name, "letterbox" in name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", type=Path, default=None,
                        help="model folders (model.cfg, model.weights, model.names); default: this project's")
    parser.add_argument("--configs", nargs="+", default=CONFIGS,
                        help='labelers such as "416+320 × flip, letterbox": sizes, then flip and letterbox if named')
    parser.add_argument("--backend", default="opencv")
    parser.add_argument("--target-precision", type=float, default=0.95)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    cv2.setNumThreads(args.threads)
    params = load(paths.params)
    if params.evaluate.groundtruth is None:
        print("evaluate.groundtruth is null: nothing to measure against", file=sys.stderr)
        return 1
    truth = read_groundtruth(Path(params.evaluate.groundtruth))
    frames = tables.read_table(paths.screen_frames, tables.FRAMES)
    frames = frames[frames["frame_id"].isin(truth.sizes)]
    classes = params.filter.classes
    models = args.models or [Path("models") / params.model.name]
    backend = choose_backend(args.backend)[0]
    print(f"{len(frames)} ground-truth images, classes {', '.join(classes)}, backend {backend}, "
          f"target precision {args.target_precision}")
    print("| labeler | best thr | P@0.5 | R@0.5 | F1 | P@0.75 | mean IoU | R at P≥target (thr) | no box | ms/image |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model in models:
        names = read_names((model / "model.names").read_text(encoding="utf-8"))
        for name in args.configs:
            size, extra, flip, letterbox = parse_config(name)
            detect = dataclasses.replace(params.detect, input_size=size, extra_sizes=extra, flip=flip,
                                         letterbox=letterbox)
            labeler = Labeler.build(backend, model, detect)
            started = time.process_time()
            found = detect_frames(frames, labeler, names).detections
            cpu_ms = (time.process_time() - started) * 1000 / len(frames)
            table = sweep(truth, frames, found, classes)
            best = best_f1(table)
            point = operating_point(table, args.target_precision)
            at_point = table[(table["class_name"] == "all") & (table["threshold"] == point)]
            reach = f"{at_point['recall'].iloc[0]:.3f} ({point:.2f})" if point is not None else "–"
            floor = table[(table["class_name"] == "all")].iloc[0]
            unfound = 1 - (floor["matched"] / floor["groundtruth_boxes"])
            print(f"| {model.name} {name} | {best['threshold']:.2f} | {best['precision']:.3f} | {best['recall']:.3f} "
                  f"| {best['f1']:.3f} | {best['precision@0.75']:.3f} | {best['mean_iou']:.3f} | {reach} "
                  f"| {unfound:.0%} | {cpu_ms:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
