"""YOLO inference through OpenVINO: the fastest CPU path measured (docs/performance.md).

The network is built straight from the ``.cfg``/``.weights`` with OpenVINO's graph
API (``framehound.darknet.openvino_graph``, about 0.5 s for yolov3-tiny), in memory
on every run: no PyTorch, and nothing on disk that could be stale or damaged.
Only the int8 model, which takes a calibration run to make, is kept in the
per-user model cache (``framehound.detect.model_cache``), checked byte for byte
before it is compiled.

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
from pathlib import Path
from typing import Any

import numpy as np

from framehound.errors import FramehoundError
from framehound.openvino_runtime import import_openvino

# OpenVINO's inference precision per detect.precision: int8 runs its quantized layers in int8, the rest in f32.
HINTS = {"fp32": "f32", "bf16": "bf16", "int8": "f32"}
# What detect.precision auto means, the same on every machine (docs/quality.md has the ground-truth figures).
AUTO_PRECISION = "fp32"


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def cpu_has_bf16() -> bool:
    """True when OpenVINO can run bf16 on this CPU (AVX-512 BF16 or AMX), by its own capability list."""
    return "BF16" in import_openvino().Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def resolve_precision(requested: str) -> str:
    """``fp32``, ``bf16`` or ``int8`` for ``detect.precision``: ``auto`` is ``AUTO_PRECISION`` on every CPU."""
    if requested == "auto":
        return AUTO_PRECISION
    if requested == "bf16" and not cpu_has_bf16():
        raise FramehoundError("detect.precision: bf16 requested, but this CPU has neither AVX-512 BF16 nor AMX "
                              "(use fp32, int8 or auto)")
    return requested


def network(model_dir: Path, input_size: int, precision: str, cache_dir: Path | None = None) -> tuple[Any, str]:
    """The ``openvino.Model`` to compile for ``precision``, and a digest of what it computes.

    fp32 and bf16 share the graph built from the cfg and weights (the digest covers
    them and the code that builds it); int8 is the cached quantized model, its
    digest that of its bytes.
    """
    openvino = import_openvino()
    if precision == "int8":
        from framehound.detect.quantize import int8_model

        cached = int8_model(model_dir, input_size, cache_dir)
        weights = openvino.Tensor(np.frombuffer(cached.weights, np.uint8).copy())
        return openvino.Core().read_model(cached.xml.decode(), weights), cached.digest
    from framehound.darknet import cfg as cfg_module
    from framehound.darknet import layers, openvino_graph
    from framehound.hashing import code_digest

    cfg, weights = (model_dir / "model.cfg").read_bytes(), (model_dir / "model.weights").read_bytes()
    parts = [hashlib.sha256(cfg).hexdigest(), hashlib.sha256(weights).hexdigest(), str(input_size),
             code_digest(cfg_module, layers, openvino_graph)]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return openvino_graph.build_model(cfg.decode(), np.frombuffer(weights, np.uint8), input_size), digest


class OpenVINODetector:
    """A Darknet network compiled by OpenVINO for this CPU (the ``Detector`` protocol)."""

    def __init__(self, model_dir: Path, input_size: int, precision: str = "fp32",
                 cache_dir: Path | None = None) -> None:
        openvino = import_openvino()
        precision = resolve_precision(precision)
        model, digest = network(model_dir, input_size, precision, cache_dir)
        # Not pinned to cores: on a shared machine a neighbour on a stream's core stalls the whole call
        # (measured on 2 loaded cores: bf16 19.6 frames/s unpinned against 15.4 pinned, fp32 8.4 against 7.8).
        self.compiled = openvino.Core().compile_model(model, "CPU", {
            "INFERENCE_PRECISION_HINT": HINTS[precision], "PERFORMANCE_HINT": "THROUGHPUT",
            "ENABLE_CPU_PINNING": False})
        self.requests = int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self.queue = openvino.AsyncInferQueue(self.compiled, self.requests)
        self.name = f"openvino-cpu-{precision}"
        # What the detection cache key names: the runtime's version and the model's digest.
        self.runtime = f"openvino {openvino.__version__} {precision} model {digest[:16]}"
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
