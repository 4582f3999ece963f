"""The review server's safety: loopback, frame images only, POST with the page's token, durable decisions."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np
import pandas as pd
import pytest

from framehound import tables
from framehound.decisions.log import read_log
from framehound.hashing import sha256_file
from framehound.review.project import ReviewProject
from framehound.review.server import TOKEN_HEADER, bind, host_allowed
from tests.test_review_project import build_project

LAUNCH = ("import argparse, sys; from framehound.review import cli; parser = argparse.ArgumentParser(); "
          "cli.add_arguments(parser); cli.run(parser.parse_args(sys.argv[1:]))")


def request(url: str, method: str, path: str, body: object = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One raw HTTP request: the path goes out exactly as written, dots and all."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    data = None if body is None else json.dumps(body)
    connection.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    result = response.status, response.read()
    connection.close()
    return result


def page_token(url: str) -> str:
    status, page = request(url, "GET", "/")
    assert status == 200
    return re.search(rb'name="review-token" content="([^"]+)"', page).group(1).decode()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ReviewProject, str]]:
    """A project with one more frame whose table row points outside data/, served on 127.0.0.1."""
    root = build_project(tmp_path / "repo")
    outside = tmp_path / "outside.jpg"
    cv2.imwrite(str(outside), np.zeros((24, 32, 3), np.uint8))
    frames = tables.read_table(root / "data/screen/frames.parquet", tables.FRAMES)
    escape = {"frame_id": "evil_0", "video_id": "evil", "t_ms": 0, "shard": "../outside.jpg", "offset": 0,
              "size": outside.stat().st_size, "sha256": sha256_file(outside), "width": 32, "height": 24}
    tables.write_table(pd.concat([frames, pd.DataFrame([escape])]), root / "data/screen/frames.parquet", tables.FRAMES)
    project = ReviewProject(root)
    server, url = bind(project, "ann")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield project, url
    server.shutdown()
    server.server_close()


def test_it_listens_on_loopback_on_a_free_port(served):
    _, url = served
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url) and urlsplit(url).port != 0


@pytest.mark.parametrize("path", [
    "/image/..%2F..%2Fparams.yaml", "/image/../../params.yaml", "/image/%2Fetc%2Fpasswd", "/image//etc/passwd",
    "/image/alpha_0/../../params.yaml", "/static/../page.html", "/static/..%2Fpage.html", "/static/%2Fetc%2Fpasswd",
    "/static//etc/passwd", "/data/frames/alpha.zip", "/params.yaml", "/image/nope_0",
    "/image/evil_0",  # listed in the frames table, but the file is outside data/
])
def test_only_frame_images_under_data_are_served(served, path):
    _, url = served
    status, body = request(url, "GET", path)
    assert status == 404, (path, body[:80])


def test_a_frame_image_and_the_page_assets_are_served(served):
    _, url = served
    status, body = request(url, "GET", "/image/alpha_0")
    assert status == 200 and body[:2] == b"\xff\xd8"
    assert request(url, "GET", "/static/review.js")[0] == 200


def test_state_changes_need_a_post_with_the_page_token(served):
    project, url = served
    decision = {"frame_id": "alpha_0", "verdict": "rejected"}
    assert request(url, "POST", "/api/decisions", decision)[0] == 403
    assert request(url, "POST", "/api/decisions", decision, {TOKEN_HEADER: "guess"})[0] == 403
    assert request(url, "GET", "/api/decisions?frame_id=alpha_0&verdict=rejected")[0] == 405
    assert read_log(project.decisions_path).decisions == []
    status, body = request(url, "POST", "/api/decisions", decision, {TOKEN_HEADER: page_token(url)})
    assert status == 200 and json.loads(body)["decision"]["verdict"] == "rejected"
    assert [(d.frame_id, d.reviewer) for d in read_log(project.decisions_path).decisions] == [("alpha_0", "ann")]


def test_bad_decisions_are_refused_without_writing(served):
    project, url = served
    token = {TOKEN_HEADER: page_token(url)}
    assert request(url, "POST", "/api/decisions", {"frame_id": "nope_0", "boxes": []}, token)[0] == 400
    bad_class = {"frame_id": "alpha_0", "boxes": [{"class_name": "dog", "x_min": 1, "y_min": 1, "x_max": 9,
                                                   "y_max": 9}]}
    assert request(url, "POST", "/api/decisions", bad_class, token)[0] == 400
    assert request(url, "POST", "/api/decisions", {"frame_id": "alpha_0", "boxes": "all"}, token)[0] == 400
    assert read_log(project.decisions_path).decisions == []


def _box(i: int = 0) -> dict:
    return {"class_name": "person", "x_min": 1 + i % 5, "y_min": 1, "x_max": 9, "y_max": 9}


@pytest.mark.parametrize(("body", "reason"), [
    ({"frame_id": []}, "unknown frame_id"),
    ({"frame_id": {"a": 1}}, "unknown frame_id"),
    ([1, 2], "the body must be a JSON object"),
    ({"frame_id": "alpha_0", "verdict": "banana", "boxes": []}, 'verdict must be "rejected"'),
    ({"frame_id": "alpha_0", "verdict": "accepted"}, 'verdict must be "rejected"'),
    ({"frame_id": "alpha_0", "boxes": [], "reviewer": "mallory"}, "unknown field 'reviewer'"),
    ({"frame_id": "alpha_0", "boxes": [_box(i) for i in range(501)]}, "at most 500 boxes a frame, got 501"),
    ({"frame_id": "alpha_0", "boxes": [{**_box(), "x_max": float("inf")}]}, "box needs finite"),
    ({"frame_id": "alpha_0", "boxes": [{**_box(), "confidence": 7}]}, "box confidence must be a number from 0 to 1"),
    ({"frame_id": "alpha_0", "boxes": [{**_box(), "x_min": -5000, "x_max": -4000}]}, "box is outside the frame"),
])
def test_malformed_decisions_get_a_4xx_with_one_line_and_write_nothing(served, body, reason):
    project, url = served
    before = project.decisions_path.read_bytes()
    status, answer = request(url, "POST", "/api/decisions", body, {TOKEN_HEADER: page_token(url)})
    assert status == 400 and json.loads(answer)["error"].startswith(reason)
    assert "\n" not in json.loads(answer)["error"]
    assert project.decisions_path.read_bytes() == before


def test_deeply_nested_json_is_a_400_not_a_crash(served):
    project, url = served
    before = project.decisions_path.read_bytes()
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("POST", "/api/decisions", body="[" * 100_000 + "]" * 100_000,
                       headers={"Content-Type": "application/json", TOKEN_HEADER: page_token(url)})
    response = connection.getresponse()
    assert response.status == 400 and json.loads(response.read())["error"] == "the body must be a JSON object"
    assert project.decisions_path.read_bytes() == before


def test_a_huge_body_is_refused_before_it_is_read(served):
    project, url = served
    before = project.decisions_path.read_bytes()
    body = {"frame_id": "alpha_0", "boxes": [_box()] * 20000}  # about 1.5 MB
    status, answer = request(url, "POST", "/api/decisions", body, {TOKEN_HEADER: page_token(url)})
    assert status == 413 and json.loads(answer)["error"] == "request body over 1048576 bytes"
    assert project.decisions_path.read_bytes() == before


def test_a_hand_made_log_line_with_too_many_boxes_is_skipped_not_labelled(tmp_path):
    log = tmp_path / "decisions.jsonl"
    line = {"frame_sha256": "ab" * 32, "frame_id": "alpha_0", "verdict": "edited", "width": 64, "height": 48,
            "reviewer": "x", "time": "2026-01-01T00:00:00.000Z", "boxes": [_box()] * 501}
    log.write_text(json.dumps(line) + "\n" + json.dumps({**line, "boxes": [_box()]}) + "\n")
    read = read_log(log)
    assert read.unreadable == [1] and [len(d.boxes) for d in read.decisions] == [1]


def test_serving_beyond_loopback_needs_allow_remote_and_warns(tmp_path):
    root = build_project(tmp_path)
    refused = subprocess.run([sys.executable, "-m", "framehound.cli", "review", "--root", str(root),
                              "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("error: review: --host 0.0.0.0 serves the frames beyond this machine; "
                                      "add --allow-remote if that is what you want")
    allowed = subprocess.Popen([sys.executable, "-m", "framehound.cli", "review", "--root", str(root), "--host",
                                "0.0.0.0", "--allow-remote"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert "reviewing" in allowed.stdout.readline()
    finally:
        allowed.send_signal(signal.SIGINT)
        _, err = allowed.communicate(timeout=30)
    assert "warning: listening on 0.0.0.0 (--allow-remote)" in err


@pytest.mark.parametrize(("name", "listen", "allowed"), [
    ("127.0.0.1", "127.0.0.1", True), ("localhost", "127.0.0.1", True), ("10.0.0.5", "127.0.0.1", False),
    ("attacker.example", "0.0.0.0", False), ("10.0.0.5", "0.0.0.0", True), ("[fe80::1]", "::", True),
    ("review.lab", "review.lab", True), ("rebind.attacker.example", "review.lab", False),
])
def test_beyond_loopback_the_host_check_still_refuses_domain_names(name, listen, allowed):
    assert host_allowed(name, listen) is allowed


def test_a_request_for_another_host_name_is_refused(served):
    _, url = served
    assert request(url, "GET", "/", headers={"Host": "attacker.example"})[0] == 403


def test_every_acknowledged_decision_survives_killing_the_server(tmp_path):
    root = build_project(tmp_path)
    server = subprocess.Popen([sys.executable, "-c", LAUNCH, "--root", str(root), "--reviewer", "ann"],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        token = {TOKEN_HEADER: page_token(url)}
        frames = sorted(ReviewProject(root).frames)
        for frame_id in frames:
            status, _ = request(url, "POST", "/api/decisions", {"frame_id": frame_id, "verdict": "rejected"}, token)
            assert status == 200
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    decisions = read_log(root / "reviews/decisions.jsonl")
    assert sorted(d.frame_id for d in decisions.decisions) == frames and decisions.unreadable == []


def test_a_decision_made_under_a_frame_s_former_id_shows_on_the_frame(tmp_path):
    root = build_project(tmp_path)
    project = ReviewProject(root)
    renamed = replace(project.decide("alpha_0", [], "ann"), frame_id="alpha-old_0")  # same bytes, old name
    project.record([renamed])
    server, url = bind(ReviewProject(root), "ann")
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        status, body = request(url, "GET", "/api/frames?status=edited")
    finally:
        server.shutdown()
        server.server_close()
    [frame] = json.loads(body)["frames"]
    assert status == 200 and frame["frame_id"] == "alpha_0" and frame["decision"]["boxes"] == []


@pytest.mark.parametrize("query", ["page=" + "9" * 5000, "page=-99999999999999999999", "page=1e9", "per_page=0",
                                   "per_page=100000000", "status=" + "x" * 60_000, "class=%00", "video=%ff"])
def test_absurd_query_values_still_give_a_page(served, query):
    _, url = served
    status, body = request(url, "GET", f"/api/frames?{query}")
    assert status == 200 and len(json.loads(body)["frames"]) <= 100


def test_concurrent_saves_land_as_whole_lines(served):
    project, url = served
    token = {TOKEN_HEADER: page_token(url)}
    boxes = [_box(i) for i in range(200)]  # long lines, so interleaved writes would show
    statuses: list[int] = []

    def save(n: int) -> None:
        for i in range(10):  # 80 saves in all, each with a different number of boxes
            body = {"frame_id": "alpha_0", "boxes": boxes[: 100 + n * 10 + i]}
            statuses.append(request(url, "POST", "/api/decisions", body, token)[0])

    workers = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    log = read_log(project.decisions_path)
    assert statuses == [200] * 80 and log.unreadable == []
    assert sorted(len(d.boxes) for d in log.decisions) == list(range(100, 180))


def test_the_server_follows_the_pipeline_outputs_and_refuses_what_it_cannot_serve(served):
    project, url = served
    token = {TOKEN_HEADER: page_token(url)}
    [alpha] = [f for f in json.loads(request(url, "GET", "/api/frames")[1])["frames"] if f["frame_id"] == "alpha_0"]
    assert request(url, "GET", alpha["image"])[0] == 200
    (project.root / "data/frames/alpha.zip").unlink()  # a rerun under way: the shard is being rewritten
    body = {"frame_id": "alpha_0", "sha256": alpha["sha256"], "base": None, "boxes": alpha["proposed"]}
    status, answer = request(url, "POST", "/api/decisions", body, token)
    assert status == 409 and "its image cannot be served" in json.loads(answer)["error"]
    frames_table = project.root / "data/screen/frames.parquet"
    frames = tables.read_table(frames_table, tables.FRAMES)
    frames.loc[frames["frame_id"] == "alpha_0", "sha256"] = "0" * 64  # the rerun gave alpha_0 another picture
    tables.write_table(frames, frames_table, tables.FRAMES)
    assert request(url, "GET", alpha["image"])[0] == 409  # the page's old picture is not served as the new one
    status, answer = request(url, "POST", "/api/decisions", body, token)
    assert status == 409 and "shows another picture since this page loaded it" in json.loads(answer)["error"]
    (project.root / "data/detect/detections.parquet").unlink()  # dvc repro removes outputs before a stage runs
    status, answer = request(url, "POST", "/api/decisions", body, token)
    assert status == 409 and "the pipeline outputs cannot be read now" in json.loads(answer)["error"]
    assert read_log(project.decisions_path).decisions == []


def test_the_log_is_read_again_when_it_changes_under_the_server(served):
    """A `git checkout reviews/decisions.jsonl` (or a teammate's log pulled) under a running server."""
    project, url = served
    token = {TOKEN_HEADER: page_token(url)}
    reject = {"frame_id": "alpha_0", "verdict": "rejected"}
    assert request(url, "POST", "/api/decisions", reject, token)[0] == 200
    project.decisions_path.write_text("")  # the checkout: the rejection is gone
    status, body = request(url, "POST", "/api/decisions", reject, token)
    assert status == 200 and json.loads(body)["decision"]["verdict"] == "rejected"
    assert [d.verdict for d in read_log(project.decisions_path).decisions] == ["rejected"]  # written again
