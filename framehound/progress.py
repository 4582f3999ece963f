"""Progress bars that stay quiet when nobody is watching (CI logs, pipes)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, total: int | None = None, unit: str = "it") -> Iterator[T]:
    """Wrap ``items`` in a tqdm bar on stderr; disabled when stderr is not a terminal."""
    yield from tqdm(items, desc=desc, total=total, unit=unit, disable=None, file=sys.stderr,
                    dynamic_ncols=True, leave=False)
