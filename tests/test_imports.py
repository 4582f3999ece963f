"""The import graph: stages never import the review UI, and framehound's packages import each other without cycles."""

from __future__ import annotations

import graphlib

from tests.conftest import REPO
from tests.test_dvc_deps import PACKAGE, imports_of


def package_of(path) -> str:
    """``review`` for framehound/review/server.py, ``atomic`` for framehound/atomic.py."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def test_only_the_command_line_imports_the_review_ui():
    importers = sorted(f.relative_to(REPO).as_posix() for f in PACKAGE.rglob("*.py")
                       if package_of(f) not in ("review", "cli")
                       and any(package_of(i) == "review" for i in imports_of(f)))
    assert importers == []


def test_packages_import_each_other_without_cycles():
    graph: dict[str, set[str]] = {}
    for file in PACKAGE.rglob("*.py"):
        if file.name == "__init__.py" and file.parent == PACKAGE:
            continue
        graph.setdefault(package_of(file), set()).update(
            package_of(i) for i in imports_of(file)
            if i != PACKAGE / "__init__.py" and package_of(i) != package_of(file))
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_decisions_never_import_the_ui_or_the_filter():
    imported = {package_of(i) for f in (PACKAGE / "decisions").rglob("*.py") for i in imports_of(f)}
    assert not imported & {"review", "filter"}


def test_params_and_the_layout_import_no_stage():
    """Stages import the config; the config never imports a stage (what needs a stage's knowledge is preflight's)."""
    for module in ("params.py", "layout.py"):
        imported = {i.relative_to(PACKAGE).as_posix() for i in imports_of(PACKAGE / module)}
        assert imported <= {"__init__.py", "errors.py"}, module
