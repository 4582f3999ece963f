"""`pip install .` gets what the code imports: pyproject's dependencies are requirements.txt's."""

from __future__ import annotations

import tomllib

from tests.conftest import REPO


def test_pyproject_declares_exactly_the_runtime_requirements():
    lines = (REPO / "requirements.txt").read_text().splitlines()
    required = [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert declared == required
