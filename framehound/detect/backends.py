"""Pick and build the detection backend that ``detect.backend`` asks for."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from framehound.detect.detector import Detector
from framehound.detect.opencv_dnn import OpenCVDetector, opencv_cuda_available
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
    else PyTorch on CUDA. On a CPU-only machine PyTorch when it is installed
    (channels-last oneDNN convolutions measured faster than OpenCV's DNN on
    yolov3-tiny, see docs/performance.md), else OpenCV.
    """
    if requested == "opencv-cuda" and not opencv_cuda_available():
        raise FramehoundError(
            "detect.backend: opencv-cuda requested, but this OpenCV has no CUDA support or sees no "
            "device (PyPI's opencv wheels are CPU-only); use auto, opencv or torch"
        )
    if requested != "auto":
        return requested, "requested"
    if opencv_cuda_available():
        return "opencv-cuda", "OpenCV built with CUDA and a device is present"
    if _torch_cuda_available():
        return "torch", "PyTorch sees a CUDA device (this OpenCV has no CUDA)"
    if _torch_installed():
        return "torch", "no CUDA device; PyTorch is installed and faster than OpenCV on CPU"
    return "opencv", "no CUDA device and no PyTorch: OpenCV's CPU path"


def build_detector(backend: str, model_dir: Path, params: DetectParams) -> Detector:
    """Instantiate the chosen backend with the detect params."""
    if backend == "torch":
        from framehound.detect.torch_backend import TorchDetector

        return TorchDetector(model_dir, params.input_size, half=params.half,
                             batch_size=params.batch_size)
    return OpenCVDetector(model_dir, params.input_size, cuda=backend == "opencv-cuda", half=params.half)
