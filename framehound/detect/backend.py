"""What every detection backend provides, so the stage code never cares which runs."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Detector(Protocol):
    """A YOLO network that maps preprocessed frames to raw output rows.

    ``infer`` returns, per image, one float32 array of shape (rows, 5 + classes):
    ``cx, cy, w, h`` as fractions of the network input, objectness, then one
    score per class equal to objectness × class probability (unthresholded).
    """

    name: str          # what ran, e.g. "opencv-cpu", "torch-cuda-fp16"
    batch_size: int    # frames per ``infer`` call that suit this backend
    input_size: int

    def preprocess(self, image_bgr: np.ndarray) -> np.ndarray:
        """(3, S, S) float32 RGB in 0..1, the frame stretched to the input size."""
        ...

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        """Raw rows for each image of an (N, 3, S, S) batch."""
        ...
