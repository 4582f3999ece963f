"""``framehound diff REV_A REV_B``: what changed in data/dataset/ between two revisions.

Revisions are git revisions or DVC experiments (``refs/exps/...`` or a name
``dvc exp show`` lists), read through DVC without checking anything out.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def diff_revisions(repo: str | os.PathLike[str], rev_a: str, rev_b: str,
                   iou: float = 0.5, moved_iou: float = 0.9) -> dict[str, Any]:
    """The dataset diff from ``rev_a`` to ``rev_b`` as a JSON-ready dict."""
    # Here, not at the top: DVC and pandas would slow every `framehound` command's start.
    from framehound.datasetdiff.compare import compare_boxes, compare_images, compare_params
    from framehound.datasetdiff.revision import open_revision
    from framehound.datasetdiff.snapshot import frames_to_compare, read_boxes, read_snapshot

    with open_revision(repo, rev_a) as a, open_revision(repo, rev_b) as b:
        old, new = read_snapshot(a), read_snapshot(b)
        old_ids, new_ids = frames_to_compare(old, new)
        old_boxes, new_boxes = read_boxes(old, old_ids), read_boxes(new, new_ids)
    return {
        "a": {"rev": a.name, "commit": a.commit},
        "b": {"rev": b.name, "commit": b.commit},
        "thresholds": {"iou": iou, "moved_iou": moved_iou},
        "classes": {"old": old.classes, "new": new.classes},
        **compare_images(old.split_of, new.split_of),
        **compare_boxes(old_boxes, new_boxes, iou, moved_iou),
        **compare_params(old.params, new.params),
    }


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``diff`` subcommand's arguments."""
    parser.add_argument("rev_a", metavar="REV_A", help="git revision or DVC experiment to compare from")
    parser.add_argument("rev_b", metavar="REV_B", help="git revision or DVC experiment to compare to")
    parser.add_argument("--json", action="store_true", help="machine-readable output (sorted keys)")
    parser.add_argument("--iou", type=_fraction, default=0.5,
                        help="boxes overlapping at least this much are the same object (default 0.5)")
    parser.add_argument("--moved-iou", type=_fraction, default=0.9,
                        help="a same-class match below this IoU counts as moved (default 0.9)")
    parser.add_argument("--repo", default=".", help="the git + DVC repository (default: .)")


def run(args: argparse.Namespace) -> None:
    """Print the diff; raises FramehoundError for an unknown revision or unreadable dataset."""
    from framehound.datasetdiff.render import as_json, as_text

    report = diff_revisions(args.repo, args.rev_a, args.rev_b, args.iou, args.moved_iou)
    sys.stdout.write(as_json(report) if args.json else as_text(report))
