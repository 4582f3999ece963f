"""A person reviews in a real browser (headless Chromium); the dataset then shows what they decided."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from framehound import tables
from framehound.decisions.log import read_log
from framehound.hashing import sha256_file
from framehound.review import server as server_module
from framehound.review.project import ReviewProject
from framehound.review.queue import ordered
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


@contextmanager
def review_page(root: Path, profile: Path) -> Iterator[Page]:
    """The review page of ``root``, served and open in Chromium."""
    server, url = bind(ReviewProject(root), "ann")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with open_tab(profile) as (tab, errors):
            tab.goto(url)
            tab.wait_for_selector("article.frame.focused")
            yield tab
        assert errors == []
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(root: Path, tmp_path: Path) -> Iterator[Page]:
    """The review page of ``root``, open in Chromium."""
    with review_page(root, tmp_path / "profile") as tab:
        yield tab


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
    expect_focus(page, "alpha_1000")  # its unlabelled car is the largest part of a picture without a label

    page.keyboard.press("r")  # reject, and on to the next frame
    expect(card(page, "alpha_1000").locator(".badge")).to_have_text("rejected")
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
    expect(card(page, "alpha_1000").locator(".badge")).to_have_text("rejected")
    expect(card(page, "alpha_0").locator("g.box:not(.dimmed)")).to_have_count(1)
    expect(card(page, "alpha_2000").locator("g.box")).to_have_attribute("data-class", "car")
    expect(card(page, "alpha_3000").locator("g.box")).to_have_attribute("data-class", "person")
    expect(page.locator("#progress")).to_contain_text("kept 1 of 4 proposed boxes (25%)")
    page.keyboard.press("ArrowDown")  # show the focus ring and a selected box in the picture
    page.keyboard.press("Tab")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    labels = filter_and_split(root)
    assert "alpha_1000" not in labels
    assert [line.split()[0] for line in labels["alpha_0"]] == ["0"]
    assert [line.split()[0] for line in labels["alpha_2000"]] == ["1"]
    [drawn] = labels["alpha_3000"]
    assert [float(v) for v in drawn.split()] == pytest.approx([0, 140 / WIDTH, 140 / HEIGHT, 80 / WIDTH, 180 / HEIGHT],
                                                              abs=0.01)


def test_the_view_of_frames_not_yet_reviewed_leaves_out_the_reviewed_ones(page):
    page.keyboard.press("a")
    expect(card(page, "alpha_1000").locator(".badge")).to_have_text("accepted")
    page.select_option("#view-status", "unreviewed")
    expect(page.locator("article.frame")).to_have_count(5)
    expect(card(page, "alpha_1000")).to_have_count(0)


def test_a_box_moves_by_keyboard_and_by_dragging_and_stays_inside_the_frame(page, root):
    card(page, "beta_0").locator("header").click()
    page.keyboard.press("Tab")  # beta_0's car, (60, 90)-(250, 200) on a 320x240 frame
    page.keyboard.press("Shift+ArrowRight")  # one step: 1% of the width, 3.2 px
    drag_on_image(page, "beta_0", (150, 150), (300, 150))  # 150 px further right: it stops at the edge
    page.wait_for_selector('body[data-unsaved="0"]')
    [box] = read_log(root / "reviews/decisions.jsonl").decisions[-1].boxes
    assert (box.x_min, box.y_min, box.x_max, box.y_max) == pytest.approx((130, 90, 320, 200), abs=0.2)


def unlabelled_outcomes(root: Path, frame_id: str) -> list[tuple[str, str]]:
    table = tables.read_table(root / "data/filter/unlabelled.parquet", tables.UNLABELLED)
    return [(r.class_name, r.outcome) for r in table[table["frame_id"] == frame_id].itertuples()]


def test_failures_1_and_2_the_page_shows_the_mask_accepting_keeps_it_and_no_box_asks_first(page, root):
    """alpha_1000: a person labelled, a 0.48 car the labels miss. The page greys the car as the dataset will;
    `a` keeps it masked; deleting the person leaves no box where the detector saw a car: nothing is saved until
    the person confirms a background image."""
    expect_focus(page, "alpha_1000")
    alpha = card(page, "alpha_1000")
    expect(alpha.locator("g.box.unlabelled")).to_have_attribute("data-class", "car")  # told apart from weak boxes
    expect(alpha.locator("g.mask rect")).to_have_count(1)
    expect(alpha.locator(".count")).to_have_text("1 box · 1 masked")
    page.keyboard.press("a")
    expect(alpha.locator(".badge")).to_have_text("accepted")
    page.wait_for_selector('body[data-unsaved="0"]')
    labels = filter_and_split(root)
    assert [line.split()[0] for line in labels["alpha_1000"]] == ["0"]
    assert unlabelled_outcomes(root, "alpha_1000") == [("car", "masked")]  # was: "reviewed", the car shown unlabelled

    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Tab")  # person (left) before car (right): spatial order
    expect(alpha.locator("g.box.selected")).to_have_attribute("data-class", "person")
    page.keyboard.press("x")
    expect(page.locator("#status")).to_contain_text("press a to save it as a background image (not saved yet)")
    page.wait_for_selector('body[data-unsaved="0"]')
    assert len(read_log(root / "reviews/decisions.jsonl").decisions) == 1  # the deletion asked first
    page.keyboard.press("a")
    expect(alpha.locator(".badge")).to_have_text("edited")
    page.wait_for_selector('body[data-unsaved="0"]')
    assert read_log(root / "reviews/decisions.jsonl").decisions[-1].boxes == ()
    assert filter_and_split(root)["alpha_1000"] == []  # a background image, confirmed...
    assert unlabelled_outcomes(root, "alpha_1000") == [("car", "masked")]  # ...with its car greyed out


def test_failure_3_a_save_made_on_stale_state_is_refused_and_names_who_changed_the_frame(page, root):
    """A Label Studio import (or another tab, or a git checkout) changes the log under the open page."""
    other = ReviewProject(root)
    other.record([other.decide("alpha_1000", None, "labelstudio:ann@example.com", source="labelstudio")])
    card(page, "alpha_1000").locator("header").click()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+ArrowRight")  # nudge a box on the page's stale copy
    expect(page.locator("#status")).to_contain_text("alpha_1000 changed since this page loaded it: "
                                                    "labelstudio:ann@example.com (labelstudio) decided it rejected")
    page.wait_for_selector('body[data-unsaved="0"]')
    assert [d.verdict for d in read_log(root / "reviews/decisions.jsonl").decisions] == ["rejected"]  # import kept
    page.reload()
    expect(card(page, "alpha_1000").locator(".badge")).to_have_text("rejected")


def test_failure_4_a_decision_for_a_picture_the_pipeline_replaced_is_refused(page, root):
    """A rerun (say at another fps) gave frame alpha_1000 another picture while the page was open."""
    frames_table = root / "data/screen/frames.parquet"
    frames = tables.read_table(frames_table, tables.FRAMES)
    row = frames.index[frames["frame_id"] == "alpha_1000"][0]
    moved = root / "data/frames/alpha_1000.jpg"
    cv2.imwrite(str(moved), np.full((HEIGHT, WIDTH, 3), 90, np.uint8))
    frames.loc[row, ["shard", "offset", "size", "sha256"]] = ["data/frames/alpha_1000.jpg", 0, moved.stat().st_size,
                                                              sha256_file(moved)]
    tables.write_table(frames, frames_table, tables.FRAMES)
    card(page, "alpha_1000").locator("header").click()
    page.keyboard.press("a")
    expect(page.locator("#status")).to_contain_text("alpha_1000 shows another picture since this page loaded it")
    page.wait_for_selector('body[data-unsaved="0"]')
    assert read_log(root / "reviews/decisions.jsonl").decisions == []


def test_failure_5_the_view_of_frames_not_yet_reviewed_keeps_its_queue(root, tmp_path, monkeypatch):
    monkeypatch.setattr(server_module, "PER_PAGE", 2)
    with review_page(root, tmp_path / "profile") as page:
        page.select_option("#view-status", "unreviewed")
        expect(page.locator("#page-label")).to_have_text("page 1 / 3 · 6 frames")
        first = page.locator("article.frame").evaluate_all("cards => cards.map(c => c.dataset.frameId)")
        page.keyboard.press("a")
        page.keyboard.press("a")  # both frames of page 1 decided: on to page 2, the next two of the queue
        expect(page.locator("#page-label")).to_have_text("page 2 / 3 · 6 frames")
        shown = page.locator("article.frame").evaluate_all("cards => cards.map(c => c.dataset.frameId)")
    queue = ordered(ReviewProject(root))  # the order the view had (decisions move reviewed frames, not the queue)
    assert set(first) == set(queue[:2]) and set(shown) == set(queue[2:4])


def test_failure_8_frames_held_for_review_are_badged_counted_and_a_view_of_their_own(tmp_path):
    root = build_project(tmp_path / "repo", incomplete="review")
    with review_page(root, tmp_path / "profile") as page:
        expect(card(page, "alpha_1000").locator(".badge")).to_have_text("held")
        expect(page.locator("#progress")).to_contain_text("held 1")
        page.select_option("#view-status", "held")
        expect(page.locator("article.frame")).to_have_count(1)


def test_the_fast_path_bulk_accept_click_to_promote_copy_the_previous_frame_and_zoom(page, root):
    page.keyboard.press("Shift+A")  # every sure, complete frame of the page: all but alpha_1000 (masked car) and
    expect(page.locator("#progress")).to_contain_text("reviewed 4 / 6")  # alpha_3000 (no box)
    alpha = card(page, "alpha_1000")
    drag_on_image(page, "alpha_1000", (200, 140), (200, 140))  # a click on the masked car: it becomes a box
    expect(alpha.locator("g.box.proposed")).to_have_count(2)
    expect(alpha.locator("g.mask rect")).to_have_count(0)
    card(page, "alpha_3000").locator("header").click()
    page.keyboard.press("c")  # alpha_2000's person, one second earlier
    expect(card(page, "alpha_3000").locator("g.box.proposed")).to_have_count(1)
    page.wait_for_selector('body[data-unsaved="0"]')
    log = read_log(root / "reviews/decisions.jsonl")
    decided = {d.frame_id: [b.class_name for b in d.boxes] for d in log.decisions}
    assert decided == {"alpha_0": ["person", "car"], "alpha_2000": ["person"], "beta_0": ["car"],
                       "beta_1000": ["person"], "alpha_1000": ["person", "car"], "alpha_3000": ["person"]}
    width = alpha.locator(".stage").bounding_box()["width"]
    card(page, "alpha_1000").locator("header").click()
    page.keyboard.press("z")  # the focused frame alone...
    expect(page.locator("article.frame:visible")).to_have_count(1)
    page.keyboard.press("+")  # ...zoomed in
    assert alpha.locator(".stage").bounding_box()["width"] > 1.4 * width
