"""`dvc plots show` and `dvc plots diff` pages render in a real browser with no network.

DVC's own page loads Vega from a CDN; .dvc/config points DVC at vendor/vega/plots.html, which carries the
libraries inline. Chromium (Debian's, as the review tests drive it) gets every http(s) request refused.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, run
from tests.test_review_browser import CHROMIUM, open_tab

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git + DVC project with this repository's DVC config and template, a plot file committed, then changed."""
    root = tmp_path / "project"
    (root / ".dvc").mkdir(parents=True)
    run(["git", "init", "-q"], root)
    run(["dvc", "init", "-q", "-f"], root)
    shutil.copy2(REPO / ".dvc" / "config", root / ".dvc" / "config")
    (root / "vendor" / "vega").mkdir(parents=True)
    shutil.copy2(REPO / "vendor" / "vega" / "plots.html", root / "vendor" / "vega" / "plots.html")
    (root / "plots").mkdir()
    (root / "plots" / "classes.csv").write_text("class,boxes\nperson,187\ncar,1\n")
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "v1"], root)
    (root / "plots" / "classes.csv").write_text("class,boxes\nperson,150\ncar,9\n")
    return root


@pytest.mark.parametrize("command", [["show"], ["diff", "--targets"]], ids=["show", "diff"])  # diff: workspace vs HEAD
def test_the_plots_page_renders_with_no_network(project, tmp_path, command):
    run(["dvc", "plots", *command, "plots/classes.csv", "-x", "boxes", "-y", "class", "--template", "bar_horizontal"],
        project)
    page = project / "dvc_plots" / "index.html"
    assert "cdn." not in page.read_text()
    with open_tab(tmp_path / "profile") as (tab, errors):
        asked: list[str] = []
        tab.route("http*://**", lambda route: (asked.append(route.request.url), route.abort()))
        tab.goto(page.as_uri())
        chart = tab.wait_for_selector(".vega-embed canvas, .vega-embed svg", timeout=15_000)
        box = chart.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50
        assert errors == [] and asked == []
