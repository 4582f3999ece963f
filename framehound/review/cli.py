"""``framehound review``: serve the review page, or trade decisions with Label Studio and CVAT."""

from __future__ import annotations

import argparse
import getpass
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from framehound.atomic import write_text
from framehound.decisions.log import Decision
from framehound.errors import FramehoundError
from framehound.review import cvat, labelstudio

if TYPE_CHECKING:  # the project loads pandas: imported when a command needs it, so start-up stays fast
    from framehound.review.project import ReviewProject


def _in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from ``low`` to ``high``."""
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {text}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``review`` subcommand's arguments."""
    parser.add_argument("--root", default=".", help="the framehound repository (default: .)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a --host beyond loopback (anyone who reaches it sees the frames)")
    parser.add_argument("--port", type=_in(0, 65535), default=0,
                        help="port to listen on (default: a free one, printed)")
    parser.add_argument("--reviewer", help="name recorded with each decision (default: git config user.name)")
    trade = parser.add_mutually_exclusive_group()
    trade.add_argument("--export-labelstudio", metavar="TASKS_JSON", type=Path,
                       help="write Label Studio tasks with the current boxes as predictions (and a labeling config)")
    trade.add_argument("--export-cvat", metavar="ANNOTATIONS_XML", type=Path,
                       help="write a 'CVAT for images 1.1' annotation file with the current boxes")
    trade.add_argument("--import-labelstudio", metavar="EXPORT_JSON", type=Path,
                       help="record the annotations of a Label Studio JSON export as decisions")
    trade.add_argument("--import-cvat", metavar="ANNOTATIONS_XML", type=Path,
                       help="record the boxes of a 'CVAT for images 1.1' export as decisions")
    parser.add_argument("--image", metavar="TEMPLATE",
                        help="exports: how the tool finds each image (written to <export name>-images/), from {path} "
                             "(that image, relative to the repository), "
                             f"{{frame_id}}, {{video_id}} (Label Studio default: {labelstudio.DEFAULT_IMAGE_URL}; "
                             f"CVAT default: {cvat.DEFAULT_IMAGE_NAME})")
    parser.add_argument("--unreviewed", action="store_true", help="exports: only frames nobody has reviewed yet")
    parser.add_argument("--limit", type=_in(1, 10**9), metavar="N",
                        help="exports: at most N frames, most ambiguous first")


def default_reviewer(root: Path) -> str:
    """``git config user.name``, else the login name."""
    try:
        name = subprocess.run(["git", "config", "user.name"], cwd=root, capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        name = ""
    return name or getpass.getuser()


def _export_ids(project: ReviewProject, unreviewed: bool, limit: int | None) -> list[str]:
    from framehound.review.queue import ordered

    ids = [f for f in ordered(project, "unreviewed" if unreviewed else "all")
           if getattr(project.decisions.get(f), "verdict", "") != "rejected"]
    return ids[:limit]


def _record(project: ReviewProject, decisions: list[Decision], unknown: int, rotated: int, source: Path) -> str:
    if rotated:
        print(f"warning: {source}: {rotated} rotated box(es) became the axis-aligned boxes enclosing them "
              "(the dataset has no rotated boxes; check them in framehound review)", file=sys.stderr)
    written = project.record(decisions)
    foreign = sorted({b.class_name for d in decisions for b in d.boxes} - set(project.classes))
    note = (f"; classes not in filter.classes or filter.new_classes ({', '.join(foreign)}) stay in the log only"
            if foreign else "")
    return (f"{source}: recorded {written} decisions in {project.decisions_path} "
            f"({len(decisions) - written} unchanged, {unknown} matched no frame){note}")


def run(args: argparse.Namespace) -> None:
    """Serve, export or import, as the arguments say."""
    root = Path(args.root)
    reviewer = args.reviewer or default_reviewer(root)
    if not any((args.export_labelstudio, args.export_cvat, args.import_labelstudio, args.import_cvat)):
        from framehound.review.server import serve  # Flask only when serving

        serve(root, reviewer, args.host, args.port, args.allow_remote)
        return
    from framehound.review.project import ReviewProject

    project = ReviewProject(root)
    if args.export_labelstudio or args.export_cvat:
        out = args.export_labelstudio or args.export_cvat
        ids = _export_ids(project, args.unreviewed, args.limit)
        images = out.with_name(f"{out.stem}-images")
        project.write_images(ids, images)
        if args.export_labelstudio:
            tasks = labelstudio.export_tasks(project, ids, args.image or labelstudio.DEFAULT_IMAGE_URL, images)
            write_text(out, json.dumps(tasks, indent=1) + "\n")
            config = out.with_name(f"{out.stem}.label-config.xml")
            write_text(config, labelstudio.labeling_config(project.classes))
            print(f"{out}: {len(tasks)} tasks; images: {images}/; labeling config: {config}")
        else:
            write_text(out, cvat.export_xml(project, ids, images, args.image or cvat.DEFAULT_IMAGE_NAME))
            print(f"{out}: {len(ids)} images, in {images}/")
    elif args.import_labelstudio:
        try:
            tasks = json.loads(args.import_labelstudio.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FramehoundError(f"{args.import_labelstudio}: cannot read a JSON export: {exc}") from None
        print(_record(project, *labelstudio.import_tasks(project, tasks, reviewer), args.import_labelstudio))
    else:
        try:
            text = args.import_cvat.read_text(encoding="utf-8")
        except OSError as exc:
            raise FramehoundError(f"{args.import_cvat}: cannot read: {exc}") from None
        print(_record(project, *cvat.import_xml(project, text, reviewer), args.import_cvat))
