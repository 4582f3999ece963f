"""YOLO inference through OpenCV's DNN module, on CPU or CUDA."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from framehound.darknet.cfg import with_detection_threshold
from framehound.errors import FramehoundError


def opencv_cuda_available() -> bool:
    """True when this cv2 was built with CUDA and sees a device."""
    try:
        return cv2.cuda.getCudaEnabledDeviceCount() > 0
    except (AttributeError, cv2.error):
        return False


class OpenCVDetector:
    """A Darknet network loaded into cv2.dnn (the ``Detector`` protocol).

    One frame per forward pass: measured on 2 cores, a batch of 8 was slower
    per frame than single frames.
    """

    batch_size = 1

    def __init__(self, model_dir: Path, input_size: int, cuda: bool = False, half: bool = False) -> None:
        if not hasattr(cv2.dnn, "readNetFromDarknet"):
            raise FramehoundError(f"opencv {cv2.__version__} has no Darknet importer: "
                                  "pip install 'opencv-python-headless>=4.10,<5'")
        cfg_path = model_dir / "model.cfg"
        # thresh 0: OpenCV would otherwise zero every class score below 0.2.
        cfg = with_detection_threshold(cfg_path.read_text(encoding="utf-8"), 0.0, str(cfg_path))
        weights = np.fromfile(model_dir / "model.weights", dtype=np.uint8)
        try:
            self.net = cv2.dnn.readNetFromDarknet(np.frombuffer(cfg.encode(), np.uint8), weights)
        except cv2.error as exc:
            raise FramehoundError(f"{model_dir}: OpenCV cannot load this Darknet model ({exc.err})") from None
        if cuda:
            self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_CUDA)
            self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CUDA_FP16 if half else cv2.dnn.DNN_TARGET_CUDA)
            self.name = "opencv-cuda-fp16" if half else "opencv-cuda"
        else:
            self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
            self.name = "opencv-cpu"
        self.output_names = self.net.getUnconnectedOutLayersNames()
        self.runtime = f"opencv {cv2.__version__} {self.name}"  # another version may give other floats
        self.input_size = input_size

    def infer(self, batch: np.ndarray, min_objectness: float = 0.0) -> list[np.ndarray]:
        """Rows per image, objectness at least ``min_objectness``; one image per forward pass."""
        results = []
        for image in batch:
            # 8-bit NCHW in, scaled to 0..1 by the network's input layer: the same floats as blobFromImage.
            self.net.setInput(np.ascontiguousarray(image.transpose(2, 0, 1))[np.newaxis], "", 1 / 255.0)
            outputs = self.net.forward(self.output_names)
            rows = np.concatenate([o.reshape(-1, o.shape[-1]) for o in outputs])
            results.append(rows[rows[:, 4] >= min_objectness])
        return results
