"""The pipeline outputs a review works on: frames, what filter proposes, and the decisions so far.

*Proposed* boxes are the detector's boxes of ``filter.classes`` that pass
filter's box rules (confidence, size, border) under the current params: what
the automatic filter would keep. *Unlabelled* objects are the other boxes the
completeness rules count as objects (``framehound.filter.completeness``): a
decision leaves them masked unless the person boxes or dismisses them. The
remaining boxes of those classes with at least half the confidence threshold
are *dimmed* (weak): shown, so a person can promote one. Below that they are
left out: detect keeps boxes down to a 0.05 floor, and on a busy street those
would bury the frame. A class of ``filter.new_classes`` the model does not
know has no proposals: people draw its boxes.

The project notices when the pipeline outputs or the decision log change on
disk (``refresh``), so a running server never writes from stale state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from framehound import tables
from framehound.atomic import atomic_path
from framehound.boxes import Box, boxes_by_frame
from framehound.darknet.cfg import read_names
from framehound.decisions.log import DECISIONS_PATH, Decision, append, now_utc
from framehound.decisions.outcomes import box_outcomes, unchanged
from framehound.errors import FramehoundError
from framehound.filter.completeness import unlabelled
from framehound.filter.decisions import asked, dismissed, read_decisions
from framehound.filter.rules import Selection, select
from framehound.layout import paths
from framehound.model.install import model_dir
from framehound.params import FilterParams
from framehound.params import load as load_params
from framehound.shards import read_jpeg

BOX_KEY = ["frame_id", "class_name", "confidence", "x_min", "y_min", "x_max", "y_max"]


@dataclass(frozen=True)
class Frame:
    frame_id: str
    video_id: str
    t_ms: int
    width: int
    height: int
    shard: Path      # the file holding the JPEG (framehound.shards), under the project root
    offset: int
    size: int
    sha256: str
    proposed: list[Box]
    dimmed: list[Box]
    unlabelled: list[Box]     # objects a decision leaves masked unless boxed or dismissed
    reasons: list[str]        # why each of ``unlabelled`` is one (completeness's reason)
    faint: int = 0            # boxes of the requested classes too weak to show (detect keeps them down to 0.05)

    def jpeg(self) -> bytes:
        """The frame's JPEG bytes; DamagedFrame when its shard is gone or damaged."""
        return read_jpeg(self.shard, self.offset, self.size, self.sha256)


def _read(path: Path, table: tables.Table) -> pd.DataFrame:
    if not path.is_file():
        raise FramehoundError(f"{path}: not found; run the pipeline up to detect first (dvc repro detect)")
    return tables.read_table(path, table)


def _stamp(paths_: list[Path]) -> tuple[tuple[int, int], ...]:
    """What changes when a file is replaced or appended to: (mtime_ns, size) of each (0, 0 when absent)."""
    return tuple((st.st_mtime_ns, st.st_size) if (st := _stat(p)) else (0, 0) for p in paths_)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def box_kinds(selection: Selection, detections: pd.DataFrame, frames: pd.DataFrame,
              params: FilterParams) -> tuple[dict[str, Any], ...]:
    """By frame id: proposed boxes, dimmed boxes, unlabelled objects, their reasons, and the count of faint boxes.

    Unlabelled objects are what a decision would leave unlabelled on any frame, the proposal being its boxes
    (filter finds them again against the person's boxes): shown as the mask the dataset will get.
    """
    classes, floor = params.dataset_classes, params.min_confidence / 2
    missing = unlabelled(selection.removed, selection.proposed, frames, params.min_confidence,
                         params.incomplete_confidence, labelled=set(frames["frame_id"]))
    missing = missing.astype({column: "float64" for column in BOX_KEY[2:]})  # none found: object columns
    requested = detections[detections["class_name"].isin(classes)]
    shown = pd.concat([selection.proposed[BOX_KEY], missing[BOX_KEY]]).drop_duplicates(BOX_KEY)
    dimmed = _not_in(requested[requested["confidence"] >= floor], shown)
    faint = _not_in(requested[requested["confidence"] < floor], missing[BOX_KEY])
    return (boxes_by_frame(selection.proposed), boxes_by_frame(dimmed), boxes_by_frame(missing),
            missing.groupby("frame_id")["reason"].agg(list).to_dict(), faint["frame_id"].value_counts().to_dict())


def _not_in(rows: pd.DataFrame, others: pd.DataFrame) -> pd.DataFrame:
    """The boxes of ``rows`` that are not among ``others`` (same frame, class, confidence and corners)."""
    merged = rows.merge(others, on=BOX_KEY, how="left", indicator=True)
    return merged[merged["_merge"] == "left_only"]


class ReviewProject:
    """Frames with their proposed, unlabelled and dimmed boxes, and the latest decision of each reviewed frame."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.decisions_path = root / DECISIONS_PATH
        self.unavailable = ""
        self._load()

    def _inputs(self) -> list[Path]:
        return [self.root / paths.params, self.root / paths.screen_frames, self.root / paths.detections]

    def _load(self) -> None:
        root = self.root
        self.outputs_stamp = _stamp(self._inputs())
        params = load_params(root / paths.params)
        names_path = model_dir(root, params) / "model.names"
        if not names_path.is_file():
            raise FramehoundError(f"{names_path}: not found; run the pipeline up to detect first (dvc repro detect)")
        self.classes: list[str] = params.filter.dataset_classes
        self.min_confidence: float = params.filter.min_confidence
        self.policy: str = params.filter.incomplete
        frames = _read(root / paths.screen_frames, tables.FRAMES)
        detections = _read(root / paths.detections, tables.DETECTIONS)
        selection = select(detections, frames, params.filter, read_names(names_path.read_text(encoding="utf-8")))
        kinds = box_kinds(selection, detections, frames, params.filter)
        # Frames filter holds out until a person decides (filter.incomplete: review): queued first.
        self.held: set[str] = set(selection.unlabelled.loc[selection.unlabelled["outcome"] == "held", "frame_id"])
        self.in_dataset: set[str] = set(selection.frames["frame_id"])
        self.frames: dict[str, Frame] = {
            r.frame_id: Frame(r.frame_id, r.video_id, int(r.t_ms), int(r.width), int(r.height), root / r.shard,
                              int(r.offset), int(r.size), r.sha256, *(kind.get(r.frame_id, []) for kind in kinds[:4]),
                              int(kinds[4].get(r.frame_id, 0)))
            for r in frames.sort_values("frame_id").itertuples(index=False)}
        self._frames_table = frames
        order = frames.sort_values(["video_id", "t_ms", "frame_id"])
        self.previous: dict[str, str] = {  # the sampled frame before each one in its video
            later: earlier for (_, group) in order.groupby("video_id", sort=False)
            for earlier, later in zip(group["frame_id"], group["frame_id"].iloc[1:], strict=False)}
        self._read_log()

    def _read_log(self) -> None:
        self.log_stamp = _stamp([self.decisions_path])
        found = read_decisions(self.decisions_path, self._frames_table)
        self.decisions: dict[str, Decision] = found.by_frame
        self.changed: dict[str, Decision] = found.changed
        self.unreadable_lines: int = found.counts["unreadable_lines"]
        self.missing_frames: int = found.counts["decisions_for_missing_frames"]

    def refresh(self) -> str:
        """Re-read what changed on disk since the last look: 'outputs', 'log' or '' (nothing).

        While the outputs cannot be read (``dvc repro`` removes a stage's
        outputs before it runs it), ``unavailable`` says why and the server
        takes no decision.
        """
        if _stamp(self._inputs()) != self.outputs_stamp:
            try:
                self._load()
                self.unavailable = ""
            except (FramehoundError, OSError, ValueError) as exc:
                self.unavailable = str(exc)
            return "outputs"
        if _stamp([self.decisions_path]) != self.log_stamp:
            self._read_log()
            return "log"
        return ""

    def missing_classes(self, frame_id: str) -> list[str]:
        """Dataset classes nobody looked for on a reviewed frame (added after its decision)."""
        decision = self.decisions.get(frame_id)
        if decision is None or decision.verdict == "rejected":
            return []
        return sorted(set(self.classes) - asked(decision, self.classes))

    def needs_confirmation(self, frame_id: str, boxes: list[Box], dismissals: list[Box]) -> bool:
        """Would accepting ``boxes`` make a background image of a frame where the detector saw something
        that nobody boxed or dismissed? (Deleting a proposed box is a person's explicit word.)"""
        frame = self.frames[frame_id]
        seen = [b for b in frame.unlabelled + frame.dimmed if not dismissed(b, dismissals)]
        return not boxes and bool(seen or frame.faint)

    def write_images(self, frame_ids: list[str], folder: Path) -> None:
        """``<frame_id>.jpg`` files of ``frame_ids`` in ``folder`` (replaced whole): the images another tool opens.

        Frames live in shards, which labelling tools cannot read; an export writes the frames it names.
        """
        with atomic_path(folder, directory=True) as staging:
            for frame_id in frame_ids:
                (staging / f"{frame_id}.jpg").write_bytes(self.frames[frame_id].jpeg())

    def image_ref(self, template: str, frame_id: str, folder: Path) -> str:
        """How another tool finds a frame's image written by ``write_images`` into ``folder``: ``template``
        with {path} (the image, relative to the repository), {frame_id} and {video_id} filled in."""
        image = os.path.relpath(folder / f"{frame_id}.jpg", self.root)
        return template.format(path=Path(image).as_posix(), frame_id=frame_id, video_id=self.frames[frame_id].video_id)

    def current_boxes(self, frame_id: str) -> list[Box]:
        """The boxes a frame has now: the person's when reviewed (none when rejected), else the proposal."""
        frame, decision = self.frames[frame_id], self.decisions.get(frame_id)
        return frame.proposed if decision is None else decision.boxes_on(frame.width, frame.height)

    def masked_objects(self, frame_id: str) -> list[Box]:
        """The unlabelled objects a decision with the frame's current boxes would leave masked."""
        frame, decision = self.frames[frame_id], self.decisions.get(frame_id)
        gone = [] if decision is None else decision.dismissed_on(frame.width, frame.height)
        boxes = self.current_boxes(frame_id)
        return [b for b in frame.unlabelled if not dismissed(b, gone) and not dismissed(b, boxes)]

    def decide(self, frame_id: str, boxes: list[Box] | None, reviewer: str, source: str = "review",
               dismissals: list[Box] | None = None) -> Decision:
        """A decision on a frame: ``boxes`` None rejects it, a list accepts it with exactly those boxes.

        The verdict is *accepted* when the boxes are the proposal untouched,
        else *edited*. A box left as the detector drew it keeps its confidence.
        ``dismissals`` are the detector's objects the person said are not
        objects; the decision records the classes the person was asked about.
        """
        frame = self.frames[frame_id]
        kept: list[Box] = []
        for box in boxes or []:
            if (clipped := box.clipped(frame.width, frame.height)) is None:
                continue
            source_box = next((d for d in frame.proposed + frame.unlabelled + frame.dimmed if unchanged(clipped, d)),
                              None)  # a tracked miss (confidence 0) had no detector box: it becomes the person's
            kept.append(replace(clipped, confidence=source_box.confidence if source_box and source_box.confidence
                                else None))
        outcomes = box_outcomes(frame.proposed, kept)
        untouched = sum(n for (_, o), n in outcomes.items() if o == "accepted") == len(frame.proposed) == len(kept)
        verdict = "rejected" if boxes is None else "accepted" if untouched else "edited"
        gone = tuple(c for b in (dismissals or []) if boxes is not None
                     and (c := b.clipped(frame.width, frame.height)) is not None)
        return Decision(frame.sha256, frame_id, verdict, tuple(kept), frame.width, frame.height, reviewer,
                        now_utc(), source, gone, tuple(self.classes))

    def record(self, decisions: list[Decision]) -> int:
        """Append the decisions that change something; returns how many were written."""
        new = [d for d in decisions if not d.same_as(self.decisions.get(d.frame_id))]
        append(self.decisions_path, new)
        for decision in new:
            self.decisions[decision.frame_id] = decision
            self.changed.pop(decision.frame_id, None)
        self.log_stamp = _stamp([self.decisions_path])
        return len(new)
