"""What dvc.yaml says about a stage, for the stage itself.

dvc.yaml is the one place that lists each stage's outputs; the stage shell
reads it to clean what a killed run left of them, instead of every stage
keeping its own list.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from framehound.layout import declared
from framehound.params import Params

VAR = re.compile(r"\$\{([\w.]+)\}")


def _interpolate(text: str, context: dict[str, Any]) -> str:
    """``${paths.models}/${model.name}`` with values from the layout and params (dvc.yaml's own templating)."""
    def value(match: re.Match[str]) -> str:
        node: Any = context
        for key in match.group(1).split("."):
            node = node[key]
        return str(node)

    return VAR.sub(value, text)


def declared_outputs(params: Params, dvc_yaml: Path = Path("dvc.yaml")) -> list[tuple[str, Path, bool]]:
    """(stage, path, persist) of every output (outs, metrics, plots) of every stage; none without dvc.yaml."""
    if not dvc_yaml.is_file():
        return []
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")).get("stages", {})
    context = params.as_dict() | {"paths": declared()}
    outputs = []
    for stage, spec in stages.items():
        for entry in [*spec.get("outs", []), *spec.get("metrics", []), *spec.get("plots", [])]:
            path, options = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
            outputs.append((stage, dvc_yaml.parent / _interpolate(path, context),
                            bool((options or {}).get("persist"))))
    return outputs

