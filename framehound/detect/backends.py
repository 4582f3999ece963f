"""Pick and build the detection backend that ``detect.backend`` asks for."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from framehound.detect.detector import Detector
from framehound.detect.opencv_dnn import OpenCVDetector, opencv_cuda_available
from framehound.detect.openvino_backend import OpenVINODetector, openvino_installed
from framehound.errors import FramehoundError
from framehound.params import DetectParams

log = logging.getLogger("framehound")


def _torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def _torch_cuda_available() -> bool:
    if not _torch_installed():
        return False
    import torch

    return bool(torch.cuda.is_available())


def choose_backend(requested: str) -> tuple[str, str]:
    """The backend to run for ``detect.backend`` and why.

    ``auto`` is OpenVINO wherever its wheel installs (Linux x86-64 and aarch64,
    Windows, macOS arm64): the runtime that made the committed dataset, so a fresh
    clone gets the same bytes. Without it, OpenCV, and ``detect`` says in one line
    that the dataset may differ. GPUs are opt-in (``opencv-cuda``, ``torch``): a
    GPU's floats differ from the CPU's, and so would the dataset.
    """
    if requested == "opencv-cuda" and not opencv_cuda_available():
        raise FramehoundError(
            "detect.backend: opencv-cuda requested, but this OpenCV has no CUDA support or sees no "
            "device (PyPI's opencv wheels are CPU-only); use auto, opencv, torch or openvino"
        )
    if requested != "auto":
        return requested, "requested"
    if openvino_installed():
        return "openvino", "auto: OpenVINO, the runtime of the committed dataset"
    log.warning("detect.backend auto: OpenVINO is not installed here (no wheel for this platform?), so detect runs "
                "on OpenCV and the dataset may differ from the committed one")
    return "opencv", "auto without OpenVINO: OpenCV's CPU path"


def build_detector(backend: str, model_dir: Path, params: DetectParams) -> Detector:
    """Instantiate the chosen backend with the detect params."""
    on_cpu = backend == "opencv" or (backend == "torch" and not _torch_cuda_available())
    if params.precision in ("bf16", "int8") and on_cpu:
        raise FramehoundError(f"detect.precision: {params.precision} runs on the openvino backend only, and "
                              f"{backend} was chosen (install openvino, or use precision fp32)")
    if backend == "torch":
        from framehound.detect.torch_backend import TorchDetector

        return TorchDetector(model_dir, params.input_size, half=params.half,
                             batch_size=params.batch_size)
    if backend == "openvino":
        return OpenVINODetector(model_dir, params.input_size, params.precision)
    return OpenCVDetector(model_dir, params.input_size, cuda=backend == "opencv-cuda", half=params.half)
