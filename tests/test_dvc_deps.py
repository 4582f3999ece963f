"""dvc.yaml lists every file of framehound/ a stage imports: a change there re-runs the stage.

DVC re-runs a stage only when a listed dependency changes, so a module the
stage imports but dvc.yaml does not list lets DVC serve stale outputs. The
import closure is read from the source (every import statement, also those
inside functions), starting at the stage script.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

PACKAGE = REPO / "framehound"
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def module_file(name: str) -> Path | None:
    """The file of a ``framehound.*`` module or package, None for anything else."""
    if name != "framehound" and not name.startswith("framehound."):
        return None
    path = REPO.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imports_of(path: Path) -> set[Path]:
    """framehound files that ``path`` imports, its packages' __init__ files included."""
    found: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            for end in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__
                file = module_file(".".join(parts[:end]))
                if file is not None and file.is_file():
                    found.add(file)
    return found


def closure(script: Path) -> set[Path]:
    seen: set[Path] = set()
    todo = [script]
    while todo:
        for file in imports_of(todo.pop()) - seen:
            seen.add(file)
            todo.append(file)
    return seen


def covered(file: Path, deps: list[str]) -> bool:
    return any(file == REPO / dep or (REPO / dep) in file.parents for dep in deps)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_imported_module_is_a_dependency(stage):
    script = REPO / STAGES[stage]["cmd"].split()[-1]
    deps = STAGES[stage]["deps"]
    assert script.relative_to(REPO).as_posix() in deps
    missing = sorted(f.relative_to(REPO).as_posix() for f in closure(script) if not covered(f, deps))
    assert missing == [], f"{stage} imports these but dvc.yaml does not list them"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_no_dependency_on_code_the_stage_does_not_import(stage):
    """An extra dependency is not unsafe, but it re-runs the stage for nothing."""
    imported = closure(REPO / STAGES[stage]["cmd"].split()[-1])
    extra = [dep for dep in STAGES[stage]["deps"] if dep.startswith("framehound")
             and not any(f == REPO / dep or (REPO / dep) in f.parents for f in imported)]
    assert extra == []


def test_the_closure_follows_imports_inside_functions(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("def main():\n    from framehound.detect.cache import load_cache\n")
    assert PACKAGE / "detect" / "cache.py" in closure(script)
    assert PACKAGE / "atomic.py" in closure(script)  # imported by detect/cache.py
