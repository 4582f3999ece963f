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
    """Inline SVG bar chart of ``counts`` over BINS: each bar's count above it, the bins' edges on the x axis."""
    left, plot, bar_top, height = 24, 220, 12, 60
    bar = plot / len(counts)
    top = max(counts) or 1
    bars = "".join(
        f'<rect x="{left + i * bar:.1f}" y="{bar_top + height - height * c / top:.1f}" width="{bar - 1:.1f}" '
        f'height="{height * c / top:.1f}" fill="#4a7"><title>{lo:.1f}-{hi:.1f}: {c}</title></rect>'
        + (f'<text x="{left + (i + .5) * bar:.1f}" y="{bar_top + height - height * c / top - 2:.1f}" '
           f'text-anchor="middle">{c}</text>' if c else "")
        for i, (c, lo, hi) in enumerate(zip(counts, BINS[:-1], BINS[1:], strict=True)))
    base = bar_top + height
    ticks = "".join(f'<text x="{left + plot * t:.1f}" y="{base + 12}" text-anchor="middle">{t:g}</text>'
                    for t in (0, 0.5, 1))
    axes = (f'<line x1="{left}" y1="{base}" x2="{left + plot}" y2="{base}" stroke="#555"/>'
            f'<line x1="{left}" y1="{bar_top}" x2="{left}" y2="{base}" stroke="#555"/>'
            f'<text x="{left - 3}" y="{bar_top + 8}" text-anchor="end">{top}</text>'
            f'<text x="{left - 3}" y="{base}" text-anchor="end">0</text>')
    width = left + plot + 8
    return (f'<figure><svg width="{width}" height="{base + 16}" viewBox="0 0 {width} {base + 16}" '
            f'font-size="9">{axes}{bars}{ticks}</svg><figcaption>{escape(caption)}</figcaption></figure>')


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


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _groundtruth(quality: dict[str, Any], curve: pd.DataFrame) -> str:
    """The dataset's labels against hand-checked boxes, or how to get that figure."""
    if not quality.get("groundtruth"):
        return ("<p>No ground truth for this footage: set <code>evaluate.groundtruth</code> to a COCO file of "
                "hand-checked boxes to measure precision, recall and complete images (docs/quality.md).</p>")
    columns = ("groundtruth_boxes", "precision@0.5", "recall@0.5", "precision@0.75", "recall@0.75")
    rows = "".join(
        f"<tr><td>{escape(name)}</td>" + "".join(
            f'<td data-metric="quality.{escape(name)}.{c}">{f[c] if c == "groundtruth_boxes" else _figure(f[c])}</td>'
            for c in columns) + "</tr>"
        for name, f in [*quality["classes"].items(), ("all", quality)])
    head = "".join(f"<th>{c}</th>" for c in ("class", "ground-truth boxes", *columns[1:]))
    return (f"<p>Against <code>{escape(quality['groundtruth'])}</code>: {quality['images']} of its "
            f"{quality['groundtruth_images']} hand-checked images are in the dataset. Complete images (every "
            f"object of the classes labelled): <strong data-metric=\"quality.complete_images\">"
            f"{quality['complete_images']}</strong> of {quality['images']} "
            f"({_figure(quality['complete_image_rate'])}); mean IoU of matched boxes "
            f"<strong data-metric=\"quality.mean_iou\">{_figure(quality['mean_iou'])}</strong>; "
            f"{quality['masked_objects']} objects masked (recall counting them as unlabelled "
            f"<strong data-metric=\"quality.recall@0.5_counting_masked\">"
            f"{_figure(quality['recall@0.5_counting_masked'])}</strong>); grey covers "
            f"{_figure(quality['grey_mean'])} of an image on average, {_figure(quality['grey_max'])} at most.</p>"
            f"{_other_pictures(quality)}<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{_extra(quality)}"
            f"{_sweep(quality, curve)}")


def _other_pictures(quality: dict[str, Any]) -> str:
    """The ground-truth images left unscored because this run's frame of their id is another picture."""
    other = quality.get("groundtruth_images_other_picture") or []
    if not other:
        return ""
    return (f'<p><strong data-metric="quality.other_picture">{len(other)}</strong> ground-truth images not scored: '
            "this run's frame of that id shows another picture (extract params changed since the ground truth was "
            f"drawn? docs/quality.md): {escape(', '.join(other))}</p>")


def _pr_curve(curve: pd.DataFrame, sweep: dict[str, Any]) -> str:
    """Inline SVG of the labeler's precision against recall over the thresholds, the operating point marked."""
    # A threshold no box reaches has no precision: an empty cell in the CSV.
    every = curve.loc[curve["class_name"] == "all", ["recall", "precision"]].apply(pd.to_numeric, errors="coerce")
    every = every.dropna()
    if every.empty:
        return ""
    left, top, side = 34, 8, 200

    def xy(recall: float, precision: float) -> tuple[float, float]:
        return left + side * recall, top + side * (1 - precision)

    points = " ".join("{:.1f},{:.1f}".format(*xy(r, p)) for r, p in zip(every["recall"], every["precision"],
                                                                         strict=True))
    x, y = xy(sweep["recall"], sweep["precision"])
    ticks = "".join(f'<text x="{left + side * t:.1f}" y="{top + side + 12}" text-anchor="middle">{t:g}</text>'
                    f'<text x="{left - 3}" y="{top + side * (1 - t) + 3:.1f}" text-anchor="end">{t:g}</text>'
                    for t in (0, 0.5, 1))
    axes = (f'<line x1="{left}" y1="{top + side}" x2="{left + side}" y2="{top + side}" stroke="#555"/>'
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + side}" stroke="#555"/>'
            f'<text x="{left + side / 2}" y="{top + side + 24}" text-anchor="middle">recall@0.5</text>'
            f'<text x="10" y="{top + side / 2}" transform="rotate(-90 10 {top + side / 2})" '
            f'text-anchor="middle">precision@0.5</text>')
    mark = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#c33"><title>filter.min_confidence '
            f'{sweep["min_confidence"]}: precision {sweep["precision"]}, recall {sweep["recall"]}</title></circle>')
    width, height = left + side + 10, top + side + 30
    return (f'<figure><svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-size="9">{axes}'
            f'<polyline points="{points}" fill="none" stroke="#4a7" stroke-width="1.5"/>{mark}{ticks}</svg>'
            f'<figcaption>the labeler over thresholds 0.05-0.95 (red: filter.min_confidence '
            f'{sweep["min_confidence"]})</figcaption></figure>')


def _sweep(quality: dict[str, Any], curve: pd.DataFrame) -> str:
    """Where the threshold sits, what the target precision needs, and the curve."""
    sweep = quality["threshold_sweep"]
    target = sweep["threshold_for_target"]
    need = (f"precision {sweep['target_precision']} is first reached at "
            f"<strong data-metric=\"quality.threshold_sweep.threshold_for_target\">{target:.2f}</strong>"
            if target is not None else f"no threshold reaches precision {sweep['target_precision']}")
    return (f"<p>The labeler's boxes on every sampled ground-truth image, before filter's rules: at "
            f"<code>filter.min_confidence</code> {sweep['min_confidence']} precision {_figure(sweep['precision'])}, "
            f"recall {_figure(sweep['recall'])}; {need}; the best F1 ({_figure(sweep['best_f1'])}) is at "
            f"{sweep['best_f1_threshold']:.2f}. Choose yours with <code>framehound evaluate FILE --sweep</code>."
            f"</p>{_pr_curve(curve, sweep)}")


def _extra(quality: dict[str, Any]) -> str:
    """The headline figures of every ground-truth set side by side."""
    sets = [(quality["groundtruth"], quality), *quality.get("extra", {}).items()]
    if len(sets) == 1:
        return ""
    columns = ("images", "precision@0.5", "recall@0.5", "recall@0.5_counting_masked", "precision@0.75",
               "mean_iou", "complete_image_rate", "masked_object_share")
    rows = "".join(f"<tr><td><code>{escape(path)}</code></td>" + "".join(
        f"<td>{f[c] if c == 'images' else _figure(f[c])}</td>" for c in columns) + "</tr>" for path, f in sets)
    head = "".join(f"<th>{escape(c)}</th>" for c in ("ground truth", *columns))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _incomplete(incomplete: dict[str, Any], sheet: list[str], examples: dict[str, list[str]]) -> str:
    """Images with unlabelled objects, what was done with them, and examples of each rule's rejections."""
    reasons = "".join(f'<tr><td>{escape(r)}</td><td data-metric="incomplete.objects.{escape(r)}">{n}</td></tr>'
                      for r, n in incomplete["objects"].items())
    outcomes = "".join(f'<tr><td>{escape(o)}</td><td data-metric="incomplete.images.{escape(o)}">{n}</td></tr>'
                       for o, n in incomplete["images"].items())
    images = "".join(f'<img src="{uri}" alt="incomplete image">' for uri in sheet)
    rules = "".join(
        f"<h4>{escape(reason)} ({incomplete['objects'][reason]})</h4><div class=\"sheet\">"
        + "".join(f'<img src="{uri}" alt="{escape(reason)}">' for uri in uris) + "</div>"
        for reason, uris in examples.items() if uris)
    return (f"<h3>Incomplete images (filter.incomplete: {escape(incomplete['policy'])})</h3>"
            "<p>An object of the requested classes without a label teaches a detector that it is background. "
            "Objects found without a label, by reason, and what happened to their images:</p>"
            f"<div class=\"charts\"><table><thead><tr><th>reason</th><th>objects</th></tr></thead>"
            f"<tbody>{reasons}</tbody></table><table><thead><tr><th>outcome</th><th>images</th></tr></thead>"
            f"<tbody>{outcomes}</tbody></table></div>"
            f"<p>Grey covers <strong data-metric=\"incomplete.grey.mean\">{incomplete['grey']['mean']:.1%}</strong> "
            f"of a labelled image on average, {incomplete['grey']['max']:.1%} at most. Examples as a trainer gets "
            "them (masked objects grey), labels in class colours, unlabelled objects in white on black:</p>"
            f"<div class=\"sheet\">{images}</div>"
            f"<h3>Boxes the rules rejected</h3>{rules or '<p>None.</p>'}")


def render(summary: Summary, sheets: dict[str, list[str]], params: dict[str, Any], quality: dict[str, Any],
           curve: pd.DataFrame, incomplete: dict[str, Any], incomplete_sheet: list[str],
           rule_examples: dict[str, list[str]]) -> str:
    """The whole page; ``sheets`` maps each class to its thumbnails' data URIs."""
    videos = summary.videos.rename(columns={"no_label": "no label kept"})
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>framehound dataset report</title>'
        f"<style>{STYLE}</style></head><body><h1>Dataset report</h1>"
        f"<h2>Splits</h2>{_table(summary.splits, 'split', 'split')}"
        f"<h2>Label quality</h2>{_groundtruth(quality, curve)}"
        f"{_incomplete(incomplete, incomplete_sheet, rule_examples)}"
        f"<h2>Classes</h2>{_classes(summary, sheets)}"
        f"<h2>Videos</h2><p>Frames sampled by extract, dropped by each screen rule ({', '.join(SCREEN_RULES)}), "
        "dropped by filter because no box passed its rules, kept, and the split the video went to.</p>"
        f"{_table(videos, 'video_id', 'video')}"
        f"<h2>Params</h2><pre>{escape(yaml.safe_dump(params, sort_keys=True))}</pre></body></html>\n")
