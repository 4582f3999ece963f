"""``framehound`` command line: helpers around the DVC pipeline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from framehound import diff as diff_module
from framehound import params as params_module
from framehound import promote as promote_module
from framehound.errors import FramehoundError
from framehound.review import cli as review_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="framehound", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate a params file without running anything")
    check.add_argument("params", nargs="?", default="params.yaml")
    diff_module.add_arguments(commands.add_parser(
        "diff", help="what changed in data/dataset/ between two git revisions or DVC experiments"))
    review_cli.add_arguments(commands.add_parser(
        "review", help="review the detector's boxes on a local web page; trade decisions with Label Studio / CVAT"))
    promote_module.add_arguments(commands.add_parser(
        "promote", help="freeze the trained model (data/train/model/) as a model preset: -S model=NAME uses it"))
    evaluate = commands.add_parser(
        "evaluate", help="score the current dataset's labels against a COCO ground-truth file (docs/quality.md)")
    evaluate.add_argument("groundtruth", help="COCO JSON whose image file names are <frame_id>.jpg")
    evaluate.add_argument("--root", default=".", help="the project (default: here)")
    evaluate.add_argument("--json", action="store_true", help="print every figure as JSON")
    evaluate.add_argument("--sweep", action="store_true",
                          help="instead: the detections' precision and recall at every threshold, per class, and the "
                               "threshold that reaches --target-precision (choose filter.min_confidence by it)")
    evaluate.add_argument("--target-precision", type=float, default=None,
                          help="for --sweep (default: evaluate.target_precision)")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            from framehound import preflight  # imports pandas: only when checking

            note = preflight.check(params_module.load(args.params), Path(args.params).parent)
            print(f"{args.params}: ok" + (f" ({note})" if note else ""))
        elif args.command == "diff":
            diff_module.run(args)
        elif args.command == "review":
            review_cli.run(args)
        elif args.command == "evaluate":
            if args.sweep:
                _sweep(Path(args.root), Path(args.groundtruth), args.target_precision, args.json)
            else:
                _evaluate(Path(args.root), Path(args.groundtruth), args.json)
        elif args.command == "promote":
            print(promote_module.promote(Path(args.root), args.name, args.force))
    except FramehoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _evaluate(root: Path, groundtruth: Path, as_json: bool) -> None:
    """Print the quality figures of ``root``'s labels against ``groundtruth``: a headline and a table per class."""
    from framehound.evaluate.run import evaluate_project, headline  # imports pandas: only when evaluating

    params = params_module.load(root / "params.yaml")
    figures = evaluate_project(root, groundtruth, params.filter.dataset_classes)
    if as_json:
        print(json.dumps(figures, indent=2, sort_keys=True))
        return
    print(headline(figures))
    columns = ("groundtruth_boxes", "precision@0.5", "recall@0.5", "precision@0.75", "recall@0.75")
    print(f"{'class':12}" + "".join(f"{c:>18}" for c in columns))
    for name, row in [*figures["classes"].items(), ("all", figures)]:
        print(f"{name:12}" + "".join(f"{'n/a' if row[c] is None else row[c]:>18}" for c in columns))


def _sweep(root: Path, groundtruth: Path, target: float | None, as_json: bool) -> None:
    """Print the labeler's precision and recall per threshold and class, and the operating points."""
    from framehound.evaluate.run import sweep_project  # imports pandas: only when evaluating
    from framehound.evaluate.sweep import ALL, best_f1, operating_point

    params = params_module.load(root / "params.yaml")
    target = params.evaluate.target_precision if target is None else target
    curve = sweep_project(root, groundtruth, params.filter.dataset_classes)
    if as_json:
        print(curve.to_json(orient="records", indent=2))
        return
    every = curve[curve["class_name"] == ALL]
    print(f"{'threshold':>9} {'precision':>9} {'recall':>7} {'f1':>6} {'P@0.75':>7} {'mean IoU':>8}   (all classes)")
    for row in every.itertuples(index=False):
        if round(row.threshold * 100) % 5 == 0:
            print(f"{row.threshold:9.2f} {_show(row.precision):>9} {_show(row.recall):>7} {_show(row.f1):>6} "
                  f"{_show(row[8]):>7} {_show(row.mean_iou):>8}")
    for name in [ALL, *params.filter.dataset_classes]:
        rows = curve[curve["class_name"] == name]
        if rows.empty or not rows["groundtruth_boxes"].iloc[0]:
            continue
        point, best = operating_point(curve, target, name), best_f1(curve, name)
        recall = rows.loc[rows["threshold"] == point, "recall"]
        reach = (f"precision {target} from {point:.2f} (recall {recall.iloc[0]})"
                 if point is not None else f"precision {target} never reached")
        print(f"{name}: {reach}; best F1 {best['f1']} at {best['threshold']:.2f}; "
              f"filter.min_confidence is {params.filter.min_confidence}")


def _show(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
