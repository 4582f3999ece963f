"""Parse and rewrite Darknet .cfg files.

OpenCV's Darknet importer zeroes every class score below a ``thresh`` that
defaults to 0.2 in [yolo] sections. detect keeps everything above a much
lower floor (so filter thresholds can change without re-running detection),
so the cfg handed to OpenCV states the floor explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from framehound.errors import FramehoundError


@dataclass
class Section:
    """One ``[type]`` block with its ``key=value`` options in file order."""

    type: str
    options: dict[str, str] = field(default_factory=dict)


def parse_cfg(text: str, source: str = "cfg") -> list[Section]:
    """Sections of a Darknet cfg; comments and blank lines are dropped."""
    sections: list[Section] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            sections.append(Section(line[1:-1].strip().lower()))
        elif "=" in line and sections:
            key, value = line.split("=", 1)
            sections[-1].options[key.strip()] = value.strip()
        else:
            raise FramehoundError(f"{source}:{number}: cannot parse {raw.strip()!r}")
    if not sections or sections[0].type not in {"net", "network"}:
        raise FramehoundError(f"{source}: does not start with a [net] section")
    return sections


def render_cfg(sections: list[Section]) -> str:
    """Text of ``sections`` in Darknet syntax."""
    blocks = []
    for section in sections:
        lines = [f"[{section.type}]"] + [f"{k}={v}" for k, v in section.options.items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def with_detection_threshold(text: str, threshold: float, source: str = "cfg") -> str:
    """The cfg with ``thresh`` of every [yolo]/[region] layer set to ``threshold``."""
    sections = parse_cfg(text, source)
    for section in sections:
        if section.type in {"yolo", "region"}:
            section.options["thresh"] = repr(float(threshold))
    return render_cfg(sections)


def read_names(text: str) -> list[str]:
    """Class names of a .names file, one a line, blank lines ignored."""
    return [line.strip() for line in text.splitlines() if line.strip()]
