"""YOLO inference through OpenVINO: the fastest CPU path measured (docs/performance.md).

The network is the PyTorch one built from the same ``.cfg``/``.weights``
(``framehound.darknet.torch_model``), converted once by ``openvino.convert_model``
with the 8-bit NHWC input, the scaling to 0..1 and the move to channels-first
inside the graph. The converted model is kept in a per-user cache folder
(``$XDG_CACHE_HOME/framehound/openvino``), never in a DVC output, keyed by
what makes it differ: the model files' sha256, the input size and the
OpenVINO version. Precision is not in that key: it is applied when
the model is compiled (0.1–1 s), so fp32 and bf16 share one converted model.

Frames run one per inference request, as many requests in flight as
OpenVINO's THROUGHPUT hint makes streams (2 on 2 cores: one thread each; 1.04–1.3×
its LATENCY hint's one stream of 2 threads, measured), so
a frame's rows never depend on which frames shared its batch, and outputs
are byte-identical run to run. OpenVINO's worker threads sleep when idle
(measured: no CPU time while waiting), unlike OpenMP's busy-wait.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from framehound.atomic import atomic_path
from framehound.errors import FramehoundError
from framehound.hashing import sha256_file

# Bump when the conversion below changes, so caches of the old one are not reused.
CONVERSION = 1
# OpenVINO's names for detect.precision.
HINTS = {"fp32": "f32", "bf16": "bf16"}


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def import_openvino() -> ModuleType:
    """The openvino module, or a FramehoundError that says how to install it.

    A plain ``import openvino`` starts its telemetry (a client id in ``~/intel``)
    and its converter reports every conversion to Google Analytics, unless the
    ``openvino_telemetry`` package cannot be imported, when it takes its own
    no-op stub: hidden here, so detect writes nothing there and contacts no site.
    Import openvino through this function, first.
    """
    sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]  None: "import fails"
    try:
        import openvino
    except ImportError:
        raise FramehoundError("detect.backend: openvino needs OpenVINO: pip install -r requirements.txt") from None
    return openvino


def cpu_has_bf16() -> bool:
    """True when OpenVINO can run bf16 on this CPU (AVX-512 BF16 or AMX), by its own capability list."""
    return "BF16" in import_openvino().Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def resolve_precision(requested: str) -> str:
    """``fp32`` or ``bf16`` for ``detect.precision``: ``auto`` takes bf16 where the CPU has it."""
    if requested == "auto":
        return "bf16" if cpu_has_bf16() else "fp32"
    if requested == "bf16" and not cpu_has_bf16():
        raise FramehoundError("detect.precision: bf16 requested, but this CPU has neither AVX-512 BF16 nor AMX "
                              "(use fp32 or auto)")
    return requested


def default_cache_dir() -> Path:
    """Where converted models are kept: the user's cache folder, outside every project and DVC output."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "framehound" / "openvino"


def _conversion_key(model_dir: Path, input_size: int) -> str:
    parts = [sha256_file(model_dir / "model.cfg"), sha256_file(model_dir / "model.weights"), str(input_size),
             import_openvino().__version__, str(CONVERSION)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _convert(model_dir: Path, input_size: int, target: Path) -> None:
    """Build the PyTorch network and save it as OpenVINO IR (fp32 weights) at ``target``."""
    openvino = import_openvino()
    try:
        import torch
    except ImportError:
        raise FramehoundError("detect.backend: openvino converts the model through PyTorch the first time: "
                              "pip install -r requirements-gpu.txt, or use detect.backend: opencv") from None
    from openvino.preprocess import PrePostProcessor

    from framehound.darknet.torch_model import build_darknet

    network = build_darknet((model_dir / "model.cfg").read_text(encoding="utf-8"), model_dir / "model.weights")
    with warnings.catch_warnings():
        # Tracing warns that the heads' anchors become constants (as meant) and that it is deprecated.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        model = openvino.convert_model(network, example_input=torch.zeros(1, 3, input_size, input_size),
                                       input=[(1, 3, input_size, input_size)])
    steps = PrePostProcessor(model)
    steps.input().tensor().set_element_type(openvino.Type.u8).set_layout(openvino.Layout("NHWC"))
    steps.input().preprocess().convert_element_type(openvino.Type.f32).scale(255.0)
    steps.input().model().set_layout(openvino.Layout("NCHW"))
    with atomic_path(target, directory=True) as staging:
        openvino.save_model(steps.build(), staging / "model.xml", compress_to_fp16=False)


def converted_model(model_dir: Path, input_size: int, cache_dir: Path | None = None) -> Path:
    """The model's OpenVINO IR (``model.xml``), converted now only if no earlier run left it in the cache."""
    folder = (cache_dir or default_cache_dir()) / _conversion_key(model_dir, input_size)
    if not (folder / "model.xml").is_file():
        _convert(model_dir, input_size, folder)
    return folder / "model.xml"


class OpenVINODetector:
    """A Darknet network compiled by OpenVINO for this CPU (the ``Detector`` protocol)."""

    def __init__(self, model_dir: Path, input_size: int, precision: str = "fp32",
                 cache_dir: Path | None = None) -> None:
        openvino = import_openvino()
        precision = resolve_precision(precision)
        xml = converted_model(model_dir, input_size, cache_dir)
        # Not pinned to cores: on a shared machine a neighbour on a stream's core stalls the whole call
        # (measured on 2 loaded cores: bf16 19.6 frames/s unpinned against 15.4 pinned, fp32 8.4 against 7.8).
        self.compiled = openvino.Core().compile_model(xml, "CPU", {
            "INFERENCE_PRECISION_HINT": HINTS[precision], "PERFORMANCE_HINT": "THROUGHPUT",
            "ENABLE_CPU_PINNING": False})
        self.requests = int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self.queue = openvino.AsyncInferQueue(self.compiled, self.requests)
        self.name = f"openvino-cpu-{precision}"
        self.input_size = input_size
        # A few frames per stream per call: the streams idle only while the last ones of a call finish.
        self.batch_size = 4 * self.requests

    def infer(self, batch: np.ndarray, min_objectness: float = 0.0) -> list[np.ndarray]:
        """Rows per image, objectness at least ``min_objectness``; the frames spread over the streams."""
        results: list[np.ndarray] = [np.empty(0)] * len(batch)

        def keep(request: Any, index: int) -> None:  # an openvino.InferRequest
            rows = request.get_output_tensor(0).data[0]
            results[index] = rows[rows[:, 4] >= min_objectness]  # a copy: the request's buffer is reused

        self.queue.set_callback(keep)
        for index, image in enumerate(batch):
            self.queue.start_async({0: image[np.newaxis]}, index)
        self.queue.wait_all()
        return results
