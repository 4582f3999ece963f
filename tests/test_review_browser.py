"""A person reviews in a real browser (headless Chromium); the dataset then shows what they decided."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from framehound.decisions.log import read_log
from framehound.review.project import ReviewProject
from framehound.review.server import bind
from tests.conftest import REPO
from tests.test_review_project import HEIGHT, WIDTH, build_project, filter_and_split

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; Playwright's own browser download is never used
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT = REPO / "test-artifacts" / "review.png"

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium (apt-get install chromium)")


@contextmanager
def open_tab(profile: Path) -> Iterator[tuple[Page, list[str]]]:
    """A tab of Debian's Chromium, and the page errors it reports (filled while it is open)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 1400, "height": 1000})
        tab = browser.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        yield tab, errors
        browser.close()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return build_project(tmp_path / "repo")


@pytest.fixture
def page(root: Path, tmp_path: Path) -> Iterator[Page]:
    """The review page of ``root``, open in Chromium."""
    project = ReviewProject(root)
    server, url = bind(project, "ann")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with open_tab(tmp_path / "profile") as (tab, errors):
        tab.goto(url)
        tab.wait_for_selector("article.frame.focused")
        yield tab
    assert errors == []
    server.shutdown()
    server.server_close()


def card(page: Page, frame_id: str):
    return page.locator(f'article.frame[data-frame-id="{frame_id}"]')


def expect_focus(page: Page, frame_id: str) -> None:
    expect(page.locator("article.frame.focused")).to_have_attribute("data-frame-id", frame_id)


def drag_on_image(page: Page, frame_id: str, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Press at ``start`` and release at ``end``, both in image pixels."""
    box = card(page, frame_id).locator("svg").bounding_box()
    to_screen = lambda x, y: (box["x"] + x * box["width"] / WIDTH, box["y"] + y * box["height"] / HEIGHT)  # noqa: E731
    page.mouse.move(*to_screen(*start))
    page.mouse.down()
    page.mouse.move(*to_screen(*end), steps=8)
    page.mouse.up()


def test_review_by_keyboard_and_mouse_survives_a_reload_and_reaches_the_dataset(page, root):
    expect(page.locator("article.frame")).to_have_count(6)
    expect_focus(page, "beta_0")  # its car at 0.51 is the closest call

    page.keyboard.press("r")  # reject, and on to the next frame
    expect(card(page, "beta_0").locator(".badge")).to_have_text("rejected")
    expect_focus(page, "beta_1000")

    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect_focus(page, "alpha_0")
    page.keyboard.press("Tab")  # person 0.92
    page.keyboard.press("Tab")  # car 0.55
    expect(card(page, "alpha_0").locator("g.box.selected")).to_have_attribute("data-class", "car")
    page.keyboard.press("x")
    expect(card(page, "alpha_0").locator(".badge")).to_have_text("edited")

    page.keyboard.press("ArrowRight")
    expect_focus(page, "alpha_2000")
    page.keyboard.press("Tab")
    page.keyboard.press("2")  # the person is a car
    expect(card(page, "alpha_2000").locator("g.box")).to_have_attribute("data-class", "car")

    drag_on_image(page, "alpha_3000", (100, 50), (180, 230))  # the person the detector missed...
    expect(card(page, "alpha_3000").locator("g.box")).to_have_attribute("data-class", "car")  # last class used
    page.keyboard.press("1")  # ...is a person
    expect(card(page, "alpha_3000").locator("g.box")).to_have_attribute("data-class", "person")
    expect(card(page, "alpha_3000").locator(".badge")).to_have_text("edited")
    expect(page.locator("#progress")).to_contain_text("reviewed 4 / 6 frames")

    page.wait_for_selector('body[data-unsaved="0"]')
    page.reload()
    expect(card(page, "beta_0").locator(".badge")).to_have_text("rejected")
    expect(card(page, "alpha_0").locator("g.box:not(.dimmed)")).to_have_count(1)
    expect(card(page, "alpha_2000").locator("g.box")).to_have_attribute("data-class", "car")
    expect(card(page, "alpha_3000").locator("g.box")).to_have_attribute("data-class", "person")
    expect(page.locator("#progress")).to_contain_text("kept 1 of 4 proposed boxes (25%)")
    page.keyboard.press("ArrowDown")  # show the focus ring and a selected box in the picture
    page.keyboard.press("Tab")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    labels = filter_and_split(root)
    assert "beta_0" not in labels
    assert [line.split()[0] for line in labels["alpha_0"]] == ["0"]
    assert [line.split()[0] for line in labels["alpha_2000"]] == ["1"]
    [drawn] = labels["alpha_3000"]
    assert [float(v) for v in drawn.split()] == pytest.approx([0, 140 / WIDTH, 140 / HEIGHT, 80 / WIDTH, 180 / HEIGHT],
                                                              abs=0.01)


def test_the_view_of_frames_not_yet_reviewed_leaves_out_the_reviewed_ones(page):
    page.keyboard.press("a")
    expect(card(page, "beta_0").locator(".badge")).to_have_text("accepted")
    page.select_option("#view-status", "unreviewed")
    expect(page.locator("article.frame")).to_have_count(5)
    expect(card(page, "beta_0")).to_have_count(0)



def test_a_box_moves_by_keyboard_and_by_dragging_and_stays_inside_the_frame(page, root):
    page.keyboard.press("Tab")  # beta_0's car, (60, 90)-(250, 200) on a 320x240 frame
    page.keyboard.press("Shift+ArrowRight")  # one step: 1% of the width, 3.2 px
    drag_on_image(page, "beta_0", (150, 150), (300, 150))  # 150 px further right: it stops at the edge
    page.wait_for_selector('body[data-unsaved="0"]')
    [box] = read_log(root / "reviews/decisions.jsonl").decisions[-1].boxes
    assert (box.x_min, box.y_min, box.x_max, box.y_max) == pytest.approx((130, 90, 320, 200), abs=0.2)
