"""YOLO inference through OpenCV's DNN module, on CPU or CUDA."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from framehound.darknet.cfg import with_detection_threshold
from framehound.errors import FramehoundError

log = logging.getLogger("framehound")


def cuda_available() -> bool:
    """True when this cv2 was built with CUDA and sees a device."""
    try:
        return cv2.cuda.getCudaEnabledDeviceCount() > 0
    except (AttributeError, cv2.error):
        return False


def choose_backend(requested: str) -> tuple[str, str]:
    """The backend to run and why, for ``detect.backend``."""
    has_cuda = cuda_available()
    if requested == "cuda" and not has_cuda:
        raise FramehoundError(
            "detect.backend: cuda requested, but this OpenCV has no CUDA support or sees no "
            "device (PyPI's opencv wheels are CPU-only); use auto or cpu"
        )
    if requested == "auto":
        return ("cuda", "OpenCV built with CUDA and a device is present") if has_cuda else (
            "cpu", "OpenCV has no CUDA device")
    return requested, "requested"


class OpenCVDetector:
    """A Darknet network loaded into cv2.dnn, returning raw YOLO outputs."""

    def __init__(self, model_dir: Path, input_size: int, conf_floor: float, backend: str) -> None:
        cfg_path = model_dir / "model.cfg"
        if not hasattr(cv2.dnn, "readNetFromDarknet"):
            raise FramehoundError(
                f"opencv {cv2.__version__} has no Darknet importer: pip install 'opencv-python-headless>=4.10,<5'"
            )
        cfg = with_detection_threshold(cfg_path.read_text(encoding="utf-8"), conf_floor, str(cfg_path))
        weights = np.fromfile(model_dir / "model.weights", dtype=np.uint8)
        try:
            self.net = cv2.dnn.readNetFromDarknet(np.frombuffer(cfg.encode(), np.uint8), weights)
        except cv2.error as exc:
            raise FramehoundError(f"{model_dir}: OpenCV cannot load this Darknet model ({exc.err})") from None
        if backend == "cuda":
            self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_CUDA)
            self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CUDA)
        else:
            self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        self.output_names = self.net.getUnconnectedOutLayersNames()
        self.input_size = input_size

    def blob(self, image: np.ndarray) -> np.ndarray:
        """Network input for a BGR image: RGB, 0..1, stretched to the input size."""
        size = (self.input_size, self.input_size)
        return cv2.dnn.blobFromImage(image, 1 / 255.0, size, swapRB=True, crop=False)

    def infer(self, blob: np.ndarray) -> list[np.ndarray]:
        """Raw YOLO output rows for one preprocessed frame."""
        self.net.setInput(blob)
        return list(self.net.forward(self.output_names))
