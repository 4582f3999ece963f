"""What every detection backend provides, so the stage code never cares which runs."""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np


def network_input(image_bgr: np.ndarray, size: int) -> np.ndarray:
    """The frame as every backend takes it: (S, S, 3) uint8 RGB, stretched to the input size.

    The same pixels as ``cv2.dnn.blobFromImage(image, 1/255, (S, S), swapRB=True)``,
    which also resizes the 8-bit image, but the scaling to 0..1 and the move to
    channels-first happen inside ``infer``: the decode threads do less than half
    the work, and a queued or transferred frame is a quarter of the size.
    """
    return cv2.cvtColor(cv2.resize(image_bgr, (size, size), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)


class Detector(Protocol):
    """A YOLO network that maps network inputs to raw output rows.

    ``infer`` returns, per image, one float32 array of shape (rows, 5 + classes):
    ``cx, cy, w, h`` as fractions of the network input, objectness, then one
    score per class equal to objectness × class probability (unthresholded).
    A class score never exceeds its row's objectness, so rows whose objectness
    is under ``min_objectness`` cannot yield a detection at that confidence and
    are left out where the network ran: on a GPU that is almost every row.
    """

    name: str          # what ran, e.g. "opencv-cpu", "torch-cuda-fp16"
    batch_size: int    # frames per ``infer`` call that suit this backend
    input_size: int

    def infer(self, batch: np.ndarray, min_objectness: float = 0.0) -> list[np.ndarray]:
        """Rows for each image of an (N, S, S, 3) batch of ``network_input`` frames."""
        ...
