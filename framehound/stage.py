"""Common shell of every stage script: params, logging, one-line errors."""

from __future__ import annotations

import errno
import logging
import sys
import time
from collections.abc import Callable

from framehound import params as params_module
from framehound.atomic import remove_debris
from framehound.errors import FramehoundError
from framehound.params import Params
from framehound.pipeline import declared_outputs

log = logging.getLogger("framehound")
# The disk's answers, not bugs: a full or read-only disk, a quota, a folder the user cannot write.
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES}


def run_stage(name: str, body: Callable[[Params], str]) -> None:
    """Validate params.yaml, run ``body`` and print its summary line.

    ``body`` returns the summary (e.g. ``"250 frames, 412 boxes"``). A
    FramehoundError, or a full, read-only or forbidden disk, becomes ``error: <stage>: <message>`` on stderr and exit 1,
    so DVC marks the stage failed and caches none of its outputs. Before
    ``body`` runs, what a killed run left of the stage's outputs is deleted.
    """
    logging.basicConfig(level=logging.INFO, format=f"{name}: %(message)s", stream=sys.stderr)
    started = time.perf_counter()
    try:
        params = params_module.load()
        # Beside every declared output (DVC may restore a killed stage's outputs from its run-cache
        # without running it, so its litter would stay); inside only this stage's persistent ones.
        removed = sum(remove_debris(path, inside=persist and owner == name)
                      for owner, path, persist in declared_outputs(params))
        if removed:
            log.info("removed %d leftover(s) of an interrupted run", removed)
        summary = body(params)
    except FramehoundError as exc:
        print(f"error: {name}: {exc}", file=sys.stderr)
        sys.exit(1)
    except OSError as exc:
        if exc.errno not in _DISK_ERRORS:
            raise  # a bug: its traceback is the report
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {name}: {where}{exc.strerror} (free some space or fix the permissions, then run dvc repro "
              "again)", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"error: {name}: interrupted", file=sys.stderr)
        sys.exit(130)
    elapsed = time.perf_counter() - started
    print(f"{name}: {summary} ({elapsed:.1f}s)", flush=True)
