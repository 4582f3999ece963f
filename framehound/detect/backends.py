"""Pick and build the detection backend that ``detect.backend`` asks for."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from framehound.detect.detector import Detector
from framehound.detect.opencv_dnn import OpenCVDetector, opencv_cuda_available
from framehound.detect.openvino_backend import OpenVINODetector, openvino_installed
from framehound.errors import FramehoundError
from framehound.params import DetectParams


def _torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def _torch_cuda_available() -> bool:
    if not _torch_installed():
        return False
    import torch

    return bool(torch.cuda.is_available())


def choose_backend(requested: str) -> tuple[str, str]:
    """The backend to run for ``detect.backend`` and why.

    ``auto`` prefers a GPU: OpenCV's CUDA backend when cv2 was built with it,
    else PyTorch on CUDA. On a CPU-only machine OpenVINO when it and PyTorch
    (which builds the network it converts) are installed, else PyTorch, else
    OpenCV: that is their order of speed on yolov3-tiny (docs/performance.md).
    """
    if requested == "opencv-cuda" and not opencv_cuda_available():
        raise FramehoundError(
            "detect.backend: opencv-cuda requested, but this OpenCV has no CUDA support or sees no "
            "device (PyPI's opencv wheels are CPU-only); use auto, opencv, torch or openvino"
        )
    if requested != "auto":
        return requested, "requested"
    if opencv_cuda_available():
        return "opencv-cuda", "OpenCV built with CUDA and a device is present"
    if _torch_cuda_available():
        return "torch", "PyTorch sees a CUDA device (this OpenCV has no CUDA)"
    if _torch_installed() and openvino_installed():
        return "openvino", "no CUDA device; OpenVINO is the fastest CPU runtime installed"
    if _torch_installed():
        return "torch", "no CUDA device and no OpenVINO; PyTorch is faster than OpenCV on CPU"
    return "opencv", "no CUDA device and no PyTorch: OpenCV's CPU path"


def build_detector(backend: str, model_dir: Path, params: DetectParams) -> Detector:
    """Instantiate the chosen backend with the detect params."""
    on_cpu = backend == "opencv" or (backend == "torch" and not _torch_cuda_available())
    if params.precision == "bf16" and on_cpu:
        raise FramehoundError(f"detect.precision: bf16 runs on the openvino backend only, and {backend} was chosen "
                              "(install openvino, or use precision fp32)")
    if backend == "torch":
        from framehound.detect.torch_backend import TorchDetector

        return TorchDetector(model_dir, params.input_size, half=params.half,
                             batch_size=params.batch_size)
    if backend == "openvino":
        return OpenVINODetector(model_dir, params.input_size, params.precision)
    return OpenCVDetector(model_dir, params.input_size, cuda=backend == "opencv-cuda", half=params.half)
