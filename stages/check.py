"""Stage check: validate params.yaml (every key) and what it points at, before any other stage runs.

It depends on the whole params file, so a typo anywhere re-runs it and stops
`dvc repro` here; its output never changes, so a valid edit re-runs only the
stages whose own params changed.
"""

from pathlib import Path

from framehound import atomic, preflight
from framehound.layout import paths
from framehound.params import Params
from framehound.stage import run_stage


def main(params: Params) -> str:
    note = preflight.check(params, Path("."))
    atomic.write_text(Path(paths.checked), "params.yaml: ok\n")
    return "params.yaml ok" + (f" ({note})" if note else "")


if __name__ == "__main__":
    run_stage("check", main)
