"""Assemble models/<name>/: model.cfg, model.weights, model.names, model.json."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from framehound.atomic import atomic_path
from framehound.errors import FramehoundError
from framehound.hashing import sha256_file
from framehound.layout import paths
from framehound.model.files import ModelFiles
from framehound.params import ModelFile, ModelParams, Params

log = logging.getLogger("framehound")

ROLES = ("cfg", "weights", "names")


def model_dir(root: Path, params: Params) -> Path:
    """Where the model stage puts the model that ``params`` names."""
    return root / paths.models / params.model.name


def install_model(model: ModelParams, target: Path) -> dict[str, str]:
    """Fetch and verify the three Darknet files into ``target`` atomically.

    Returns the sha256 of each file. A checksum mismatch raises before
    ``target`` is touched; a null expected checksum is recorded and logged so
    the user can pin it.
    """
    digests: dict[str, str] = {}
    with atomic_path(target, directory=True) as staging:
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            fetcher = ModelFiles(Path(scratch))
            for role in ROLES:
                spec: ModelFile = getattr(model, role)
                dest = staging / f"model.{role}"
                fetcher.fetch(spec.uri, dest)
                digest = sha256_file(dest)
                expected = spec.sha256
                if expected is None:
                    log.warning("model.%s.sha256 is null; pin it to %s", role, digest)
                elif digest != expected:
                    raise FramehoundError(
                        f"model.{role}.sha256: checksum mismatch for {spec.uri}: "
                        f"expected {expected}, got {digest}"
                    )
                digests[role] = digest
        names = (staging / "model.names").read_text(encoding="utf-8").splitlines()
        if not [n for n in names if n.strip()]:
            raise FramehoundError(f"model.names: {model.names.uri} lists no class names")
        record = {"name": model.name,
                  "files": {r: {"uri": getattr(model, r).uri, "sha256": digests[r]} for r in ROLES}}
        (staging / "model.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return digests
