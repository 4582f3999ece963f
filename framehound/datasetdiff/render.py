"""The diff for scripts (JSON, sorted keys) and for people (aligned plain-text tables)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from framehound.datasetdiff.compare import BOX_CHANGES
from framehound.split.assign import SPLITS


def as_json(report: dict[str, Any]) -> str:
    """Sorted keys, so the same diff always gives the same bytes (YAML dates as ISO strings)."""
    return json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"


def table(header: list[str], rows: list[list[Any]]) -> str:
    """Columns padded to their widest cell; columns of numbers right-aligned, the rest left-aligned."""
    numeric = [all(isinstance(row[i], int | float) for row in rows) for i in range(len(header))]
    cells = [header, *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric, strict=True)).rstrip()
        for row in cells
    )


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _images(report: dict[str, Any]) -> str:
    moved_in = Counter(m["to"] for m in report["moved_images"])
    moved_out = Counter(m["from"] for m in report["moved_images"])
    rows = []
    for split in SPLITS:
        i = report["images"][split]
        rows.append([split, i["before"], i["after"], len(i["added"]), len(i["removed"]), moved_in[split],
                     moved_out[split]])
    text = table(["images", "before", "after", "added", "removed", "moved in", "moved out"], rows)
    pairs = Counter((m["from"], m["to"]) for m in report["moved_images"])
    if pairs:
        text += "\n\n" + table(["moved from", "to", "images"],
                               [[a, b, n] for (a, b), n in sorted(pairs.items())])
    return text


def _boxes(report: dict[str, Any]) -> str:
    if not report["boxes"]:
        return "boxes: no changes"
    header = ["boxes", *(kind.replace("_", " ") for kind in BOX_CHANGES)]
    text = table(header, [[name, *(c[k] for k in BOX_CHANGES)] for name, c in report["boxes"].items()])
    if report["reclassed"]:
        text += "\n\n" + table(["re-classed from", "to", "boxes"],
                               [[r["from"], r["to"], r["boxes"]] for r in report["reclassed"]])
    return text


def _params(report: dict[str, Any]) -> str:
    if not report["params"]:
        return "params: no changes"
    rows = [[key, _value(c["old"]) if "old" in c else "(absent)", _value(c["new"]) if "new" in c else "(absent)"]
            for key, c in report["params"].items()]
    return table(["params", "old", "new"], rows)


def as_text(report: dict[str, Any]) -> str:
    """Header line, then images, boxes and params sections separated by blank lines."""
    a, b = report["a"], report["b"]
    sections = [f"dataset diff: {a['rev']} ({a['commit'][:7]}) -> {b['rev']} ({b['commit'][:7]})"]
    if report["classes"]["old"] != report["classes"]["new"]:
        sections.append(f"classes: {', '.join(report['classes']['old'])} -> {', '.join(report['classes']['new'])}")
    sections += [_images(report), _boxes(report), _params(report)]
    return "\n\n".join(sections) + "\n"
