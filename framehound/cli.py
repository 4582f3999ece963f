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


if __name__ == "__main__":
    sys.exit(main())
