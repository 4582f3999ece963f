"""reviews/decisions.jsonl: the append-only log of what people decided about frames.

One JSON object a line, keyed by the frame's content hash (sha256 of the JPEG
that extract records) and its id. A decision belongs to the picture it was
made on: it applies to a frame only while that frame holds those very bytes.
Lines are only ever appended, each with a single write and an fsync, so
killing the writer loses at most the line being written; a torn line is
skipped on read and reported. The latest decision for a frame wins.
Decisions for frames that no longer exist stay in the file: the frame may come
back (a source re-added), and the log is the record of human work.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from framehound.boxes import Box
from framehound.errors import FramehoundError
from framehound.layout import paths

DECISIONS_PATH = Path(paths.decisions)
VERDICTS = ("accepted", "edited", "rejected")
# No real frame needs more: COCO's most crowded image has 93 objects. A line over it is refused
# (server) or skipped as unreadable (reader), never turned into a label file of 100,000 lines.
MAX_BOXES = 500
SHA256 = re.compile(r"[0-9a-f]{64}")
_APPEND_LOCK = threading.Lock()


@dataclass(frozen=True)
class Decision:
    """What a person decided about one frame, with the boxes it should carry (none when rejected)."""

    frame_sha256: str
    frame_id: str
    verdict: str
    boxes: tuple[Box, ...]
    width: int
    height: int
    reviewer: str
    time: str
    source: str = "review"
    dismissed: tuple[Box, ...] = ()          # objects the detector saw that the person said are not objects
    classes: tuple[str, ...] | None = None   # the classes the person was asked to box (None: an older line)

    @classmethod
    def parse(cls, raw: Any) -> Decision:
        """A decision from a parsed JSON line; ValueError names what is wrong."""
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        missing = [k for k in ("frame_sha256", "frame_id", "verdict", "width", "height", "reviewer", "time")
                   if k not in raw]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        if not isinstance(raw["frame_sha256"], str) or not SHA256.fullmatch(raw["frame_sha256"]):
            raise ValueError("frame_sha256 must be 64 hex digits")  # a damaged hash would bind it to no picture
        if raw["verdict"] not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {raw['verdict']!r}")
        if int(raw["width"]) <= 0 or int(raw["height"]) <= 0:
            raise ValueError("width and height must be positive")
        if not isinstance(raw.get("boxes", []), list) or len(raw.get("boxes", [])) > MAX_BOXES:
            raise ValueError(f"boxes must be a list of at most {MAX_BOXES}")
        boxes = tuple(Box.parse(b) for b in raw.get("boxes", []))
        if raw["verdict"] == "rejected" and boxes:
            raise ValueError("a rejected frame carries no boxes")
        dismissed = raw.get("dismissed", [])
        if not isinstance(dismissed, list) or len(dismissed) > MAX_BOXES:
            raise ValueError(f"dismissed must be a list of at most {MAX_BOXES}")
        classes = raw.get("classes")
        if classes is not None and not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
            raise ValueError("classes must be a list of class names")
        return cls(str(raw["frame_sha256"]), str(raw["frame_id"]), raw["verdict"], boxes, int(raw["width"]),
                   int(raw["height"]), str(raw["reviewer"]), str(raw["time"]), str(raw.get("source", "review")),
                   tuple(Box.parse(b) for b in dismissed), None if classes is None else tuple(classes))

    def line(self) -> str:
        """The decision as one JSON line (sorted keys); an older line's missing fields stay missing."""
        raw = asdict(self) | {"boxes": [b.as_dict() for b in self.boxes],
                              "dismissed": [b.as_dict() for b in self.dismissed]}
        if self.classes is None:
            del raw["classes"]
        else:
            raw["classes"] = list(self.classes)
        return json.dumps(raw, sort_keys=True, separators=(",", ":")) + "\n"

    @property
    def version(self) -> str:
        """A short fingerprint of this decision: a save names the one it was made on (None: no decision yet)."""
        return hashlib.sha256(self.line().encode()).hexdigest()[:16]

    def boxes_on(self, width: int, height: int) -> list[Box]:
        """The boxes on a frame of ``width``×``height`` (a frame re-extracted at another size)."""
        return self._on(self.boxes, width, height)

    def dismissed_on(self, width: int, height: int) -> list[Box]:
        """The dismissed objects on a frame of ``width``×``height``."""
        return self._on(self.dismissed, width, height)

    def _on(self, boxes: tuple[Box, ...], width: int, height: int) -> list[Box]:
        sx, sy = width / self.width, height / self.height
        scaled = (b if (sx, sy) == (1, 1) else b.scaled(sx, sy) for b in boxes)
        return [c for b in scaled if (c := b.clipped(width, height)) is not None]

    def same_as(self, other: Decision | None) -> bool:
        """Same verdict and boxes: importing it again would change nothing."""
        return other is not None and self.verdict == other.verdict and self.classes == other.classes and (
            sorted(self.boxes, key=repr) == sorted(other.boxes, key=repr)) and (
            sorted(self.dismissed, key=repr) == sorted(other.dismissed, key=repr))


def now_utc() -> str:
    """The current time as UTC ISO 8601 with milliseconds (``2026-05-01T12:00:00.000Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def append(path: Path, decisions: Iterable[Decision]) -> None:
    """Append decisions, each line with one write and an fsync.

    A torn last line left by a killed writer is first closed with a newline,
    so it stays one unreadable line instead of spoiling the next decision.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _APPEND_LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            torn = size > 0 and _last_byte(path) != b"\n"
            for number, decision in enumerate(decisions):
                data = (("\n" if torn and number == 0 else "") + decision.line()).encode("utf-8")
                if os.write(fd, data) != len(data):
                    raise OSError(f"{path}: short write")
                os.fsync(fd)
        finally:
            os.close(fd)


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


def contents(path: Path) -> bytes:
    """The log's bytes as they are now (none when it does not exist yet)."""
    return path.read_bytes() if path.is_file() else b""


def unchanged_since(path: Path, seen: bytes) -> None:
    """FramehoundError when ``path`` no longer holds ``seen``: a review was saved while a stage used the log.

    DVC hashes a stage's dependencies after it ran, so it would record the
    newer log as applied and never run the stage for it: failing the stage
    makes the next ``dvc repro`` apply it.
    """
    if contents(path) != seen:
        raise FramehoundError(f"{path}: a review was saved while this stage ran, after it read the decisions; "
                              "run `dvc repro` again to apply it")


@dataclass
class Log:
    """The readable decisions in file order, and the numbers of lines that could not be read."""

    decisions: list[Decision] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)


def read_log(path: Path) -> Log:
    """Every readable decision of ``path`` (empty when the file does not exist yet)."""
    log = Log()
    if not path.is_file():
        return log
    for number, text in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            log.decisions.append(Decision.parse(json.loads(text)))
        except (ValueError, TypeError):  # JSONDecodeError is a ValueError: a torn or hand-broken line
            log.unreadable.append(number)
    return log


@dataclass
class Matched:
    """The latest decision of each current frame, and what matched no frame."""

    by_frame: dict[str, Decision]
    missing_frames: int                 # distinct frames (by hash) with decisions but no current frame
    changed: dict[str, Decision] = field(default_factory=dict)  # frame id -> decision made on another picture


def match(decisions: list[Decision], hashes: dict[str, str]) -> Matched:
    """The decision each frame gets: the latest (by time) made on its very bytes.

    ``hashes`` is frame_id -> sha256 of the current frames. A decision whose
    bytes are no current frame's is never applied by id: after an fps change
    a frame id names another moment of the video (another picture). Those
    whose id still exists are returned in ``changed``, for the person to
    decide again. Sorting by time is stable, so decisions with equal times
    keep their order in the file.
    """
    current = set(hashes.values())
    latest_by_hash: dict[str, Decision] = {}
    latest_by_id: dict[str, Decision] = {}
    for decision in sorted(decisions, key=lambda d: d.time):
        if decision.frame_sha256 in current:
            latest_by_hash[decision.frame_sha256] = decision
        else:
            latest_by_id[decision.frame_id] = decision
    by_frame = {frame_id: latest_by_hash[sha] for frame_id, sha in hashes.items() if sha in latest_by_hash}
    changed = {frame_id: d for frame_id, d in latest_by_id.items() if frame_id in hashes and frame_id not in by_frame}
    missing = {d.frame_sha256 for d in decisions if d.frame_sha256 not in current and d.frame_id not in hashes}
    return Matched(by_frame, len(missing), changed)
