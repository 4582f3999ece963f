"""HTML of the report: inline CSS and SVG, no script, no external resource.

No script and no remote resource is why the page opens from disk in any
browser; no timestamp is why the same run gives the same bytes.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd
import yaml

from framehound.report.summary import BINS, SCREEN_RULES, Summary
from framehound.report.thumbnails import class_colour

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:2px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}section.class{margin-bottom:2em}
.swatch{display:inline-block;width:1em;height:1em;vertical-align:middle;margin-right:.4em}
.sheet img{margin:2px;border:1px solid #ddd}.charts{display:flex;gap:2em}.charts figure{margin:0}
figcaption{font-size:12px;color:#555}pre{background:#f6f6f6;padding:1em}
"""


def _cell(value: Any, metric: str | None = None) -> str:
    attribute = f' data-metric="{escape(metric)}"' if metric else ""
    return f"<td{attribute}>{escape(str(value))}</td>"


def _histogram(counts: list[int], caption: str) -> str:
    """Inline SVG bar chart of ``counts`` over BINS; the count of each bar is in its tooltip."""
    width, height, bar = 200, 60, 200 / len(counts)
    top = max(counts) or 1
    bars = "".join(
        f'<rect x="{i * bar:.1f}" y="{height - height * c / top:.1f}" width="{bar - 1:.1f}" '
        f'height="{height * c / top:.1f}" fill="#4a7"><title>{lo:.1f}-{hi:.1f}: {c}</title></rect>'
        for i, (c, lo, hi) in enumerate(zip(counts, BINS[:-1], BINS[1:], strict=True)))
    return (f'<figure><svg width="{width}" height="{height}" viewBox="0 0 {width} {height}">{bars}</svg>'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _classes(summary: Summary, sheets: dict[str, list[str]]) -> str:
    parts = []
    for index, row in enumerate(summary.classes.itertuples()):
        r, g, b = class_colour(index)
        images = "".join(f'<img src="{uri}" alt="{escape(row[1])}">' for uri in sheets[row[1]])
        parts.append(
            f'<section class="class"><h3><span class="swatch" style="background:rgb({r},{g},{b})"></span>'
            f'{escape(row[1])}: <span data-metric="class.{escape(row[1])}">{row.boxes}</span> boxes</h3>'
            f'<div class="charts">{_histogram(row.sizes, "box size (sqrt of frame share, 0-1)")}'
            f'{_histogram(row.confidences, "confidence (0-1)")}</div>'
            f'<div class="sheet">{images}</div></section>')
    return "".join(parts)


def _table(frame: pd.DataFrame, key: str, prefix: str) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(_cell(v, f"{prefix}.{row[key]}.{c}" if c != key else None) for c, v in row.items()) + "</tr>"
        for row in frame.to_dict("records"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def render(summary: Summary, sheets: dict[str, list[str]], params: dict[str, Any]) -> str:
    """The whole page; ``sheets`` maps each class to its thumbnails' data URIs."""
    videos = summary.videos.rename(columns={"no_label": "no label kept"})
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>framehound dataset report</title>'
        f"<style>{STYLE}</style></head><body><h1>Dataset report</h1>"
        f"<h2>Splits</h2>{_table(summary.splits, 'split', 'split')}"
        f"<h2>Classes</h2>{_classes(summary, sheets)}"
        f"<h2>Videos</h2><p>Frames sampled by extract, dropped by each screen rule ({', '.join(SCREEN_RULES)}), "
        "dropped by filter because no box passed its rules, kept, and the split the video went to.</p>"
        f"{_table(videos, 'video_id', 'video')}"
        f"<h2>Params</h2><pre>{escape(yaml.safe_dump(params, sort_keys=True))}</pre></body></html>\n")
