"""int8 by NNCF post-training quantization, calibrated on frames shipped with framehound.

The calibration frames (``calibration/``, 24 JPEGs) are part of the package, so the
int8 model depends only on the cfg, the weights, the input size, this code and
the installed OpenVINO and NNCF: the same bytes run to run (tested). Two choices
are what keep its boxes right (docs/quality.md):

- the [yolo] heads' decoding stays in float (``IgnoredScope``): quantized, the
  product objectness × class probability is so coarse that no box reaches 0.25;
- max pooling pads by repeating the edge (``openvino_graph``), so the pools and the
  convolutions around them are quantized, not left in fp32 beside -inf padding.

Made once per model and input size (about 20 s for yolov3-tiny on 2 cores) and
kept in the model cache (``model_cache``), checked byte for byte on every use.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import sys
from importlib import metadata
from pathlib import Path

import cv2
import numpy as np

from framehound.darknet import cfg, layers, openvino_graph
from framehound.detect.detector import network_input
from framehound.detect.model_cache import CachedModel, cached_model
from framehound.errors import FramehoundError
from framehound.hashing import code_digest
from framehound.openvino_runtime import import_openvino

log = logging.getLogger("framehound")
CALIBRATION = Path(__file__).with_name("calibration")


def calibration_frames(input_size: int) -> list[np.ndarray]:
    """The shipped calibration frames as network inputs, (1, S, S, 3) uint8 each, in name order."""
    paths = sorted(CALIBRATION.glob("*.jpg"))
    if not paths:
        raise FramehoundError(f"{CALIBRATION}: no calibration frames (a broken framehound install?)")
    return [network_input(cv2.imread(str(path)), input_size)[np.newaxis] for path in paths]


def _key(model_dir: Path, input_size: int) -> str:
    openvino = import_openvino()
    frames = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(CALIBRATION.glob("*.jpg")))).hexdigest()
    parts = [hashlib.sha256((model_dir / name).read_bytes()).hexdigest() for name in ("model.cfg", "model.weights")]
    parts += [str(input_size), frames, openvino.__version__, metadata.version("nncf"),
              code_digest(cfg, layers, openvino_graph, sys.modules[__name__])]
    return "int8-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _quantize(model_dir: Path, input_size: int, folder: Path) -> None:
    openvino = import_openvino()  # first: NNCF then finds no telemetry package either, and sends nothing
    try:
        import nncf
    except ImportError:
        raise FramehoundError("detect.precision: int8 needs NNCF to make the model once: "
                              "pip install -r requirements-int8.txt") from None
    log.info("detect: making the int8 model for %s at %d px (once; calibrating on %d frames)", model_dir.name,
             input_size, len(list(CALIBRATION.glob("*.jpg"))))
    logging.getLogger("nncf").setLevel(logging.ERROR)  # its notes are not the stage's
    model = openvino_graph.build_model((model_dir / "model.cfg").read_text(encoding="utf-8"),
                                       model_dir / "model.weights", input_size)
    frames = calibration_frames(input_size)
    with contextlib.redirect_stdout(io.StringIO()):  # its progress bars (rich) neither
        quantized = nncf.quantize(model, nncf.Dataset(frames), subset_size=len(frames),
                                  ignored_scope=nncf.IgnoredScope(patterns=[f"{openvino_graph.HEAD_PREFIX}.*"]))
    openvino_graph.name_in_order(quantized)  # NNCF's new nodes too: the same bytes from every process
    openvino.save_model(quantized, folder / "model.xml", compress_to_fp16=False)


def int8_model(model_dir: Path, input_size: int, cache_dir: Path | None = None) -> CachedModel:
    """The int8 model of ``model_dir`` at ``input_size``, made now only if the cache has no sound copy."""
    return cached_model(_key(model_dir, input_size), lambda folder: _quantize(model_dir, input_size, folder),
                        "detect.precision int8", cache_dir)
