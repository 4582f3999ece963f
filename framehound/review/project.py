"""The pipeline outputs a review works on: frames, what filter proposes, and the decisions so far.

*Proposed* boxes are the detector's boxes of ``filter.classes`` that pass
filter's box rules (confidence, size, border) under the current params: what
the automatic filter would keep. The other boxes of those classes with at
least half the confidence threshold are *dimmed*: shown, so a person can
promote one. Below that they are left out: detect keeps boxes down to a 0.05
floor, and on a busy street those would bury the frame. A class of
``filter.new_classes`` the model does not know has no proposals: people draw
its boxes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from framehound import tables
from framehound.atomic import atomic_path
from framehound.boxes import Box, boxes_by_frame
from framehound.darknet.cfg import read_names
from framehound.decisions.log import DECISIONS_PATH, Decision, append, now_utc
from framehound.decisions.outcomes import box_outcomes, unchanged
from framehound.errors import FramehoundError
from framehound.filter.decisions import read_decisions
from framehound.filter.rules import select
from framehound.layout import paths
from framehound.model.install import model_dir
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

    def jpeg(self) -> bytes:
        """The frame's JPEG bytes; DamagedFrame when its shard is gone or damaged."""
        return read_jpeg(self.shard, self.offset, self.size, self.sha256)


def _read(path: Path, table: tables.Table) -> pd.DataFrame:
    if not path.is_file():
        raise FramehoundError(f"{path}: not found; run the pipeline up to detect first (dvc repro detect)")
    return tables.read_table(path, table)


class ReviewProject:
    """Frames with their proposed and dimmed boxes, and the latest decision of each reviewed frame."""

    def __init__(self, root: Path) -> None:
        self.root = root
        params = load_params(root / paths.params)
        names_path = model_dir(root, params) / "model.names"
        if not names_path.is_file():
            raise FramehoundError(f"{names_path}: not found; run the pipeline up to detect first (dvc repro detect)")
        self.classes: list[str] = params.filter.dataset_classes
        self.min_confidence: float = params.filter.min_confidence
        frames = _read(root / paths.screen_frames, tables.FRAMES)
        detections = _read(root / paths.detections, tables.DETECTIONS)
        selection = select(detections, frames, params.filter, read_names(names_path.read_text(encoding="utf-8")))
        proposed_rows = selection.proposed
        requested = detections[detections["class_name"].isin(self.classes)
                               & (detections["confidence"] >= self.min_confidence / 2)]
        # Unlabelled objects filter found (completeness) are shown too, so a person sees what is missing.
        requested = pd.concat([requested, selection.unlabelled]).drop_duplicates(BOX_KEY)
        dimmed_rows = requested.merge(proposed_rows[BOX_KEY], on=BOX_KEY, how="left", indicator=True)
        proposed = boxes_by_frame(proposed_rows)
        dimmed = boxes_by_frame(dimmed_rows[dimmed_rows["_merge"] == "left_only"])
        # Frames filter holds out until a person decides (filter.incomplete: review): queued first.
        self.held: set[str] = set(selection.unlabelled.loc[selection.unlabelled["outcome"] == "held", "frame_id"])
        self.frames: dict[str, Frame] = {
            r.frame_id: Frame(r.frame_id, r.video_id, int(r.t_ms), int(r.width), int(r.height), root / r.shard,
                              int(r.offset), int(r.size), r.sha256, proposed.get(r.frame_id, []),
                              dimmed.get(r.frame_id, []))
            for r in frames.sort_values("frame_id").itertuples(index=False)}
        self.decisions_path = root / DECISIONS_PATH
        decided, unused = read_decisions(self.decisions_path, frames)
        self.decisions: dict[str, Decision] = decided
        self.unreadable_lines: int = unused["unreadable_lines"]
        self.missing_frames: int = unused["decisions_for_missing_frames"]

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

    def decide(self, frame_id: str, boxes: list[Box] | None, reviewer: str, source: str = "review") -> Decision:
        """A decision on a frame: ``boxes`` None rejects it, a list accepts it with exactly those boxes.

        The verdict is *accepted* when the boxes are the proposal untouched,
        else *edited*. A box left as the detector drew it keeps its confidence.
        """
        frame = self.frames[frame_id]
        kept: list[Box] = []
        for box in boxes or []:
            if (clipped := box.clipped(frame.width, frame.height)) is None:
                continue
            source_box = next((d for d in frame.proposed + frame.dimmed if unchanged(clipped, d)), None)
            kept.append(replace(clipped, confidence=None if source_box is None else source_box.confidence))
        outcomes = box_outcomes(frame.proposed, kept)
        untouched = sum(n for (_, o), n in outcomes.items() if o == "accepted") == len(frame.proposed) == len(kept)
        verdict = "rejected" if boxes is None else "accepted" if untouched else "edited"
        return Decision(frame.sha256, frame_id, verdict, tuple(kept), frame.width, frame.height, reviewer,
                        now_utc(), source)

    def record(self, decisions: list[Decision]) -> int:
        """Append the decisions that change something; returns how many were written."""
        new = [d for d in decisions if not d.same_as(self.decisions.get(d.frame_id))]
        append(self.decisions_path, new)
        for decision in new:
            self.decisions[decision.frame_id] = decision
        return len(new)
