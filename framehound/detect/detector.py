"""What every detection backend provides, so the stage code never cares which runs."""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from framehound.detect.passes import LETTERBOX_GREY, Placement


def network_input(image_bgr: np.ndarray, size: int, letterbox: bool = False) -> np.ndarray:
    """The frame as every backend takes it: (S, S, 3) uint8 RGB, stretched or letterboxed to the input size.

    Stretched, the same pixels as ``cv2.dnn.blobFromImage(image, 1/255, (S, S), swapRB=True)``;
    the scaling to 0..1 and the move to channels-first happen inside ``infer``, so the decode
    threads do less than half the work and a queued frame is a quarter of the size.
    """
    place = Placement.of(image_bgr.shape[1], image_bgr.shape[0], size, letterbox)
    resized = cv2.resize(image_bgr, (place.width, place.height), interpolation=cv2.INTER_LINEAR)
    if not letterbox:
        return cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
    canvas = np.full((size, size, 3), LETTERBOX_GREY, np.uint8)
    canvas[place.top:place.top + place.height, place.left:place.left + place.width] = resized[:, :, ::-1]
    return canvas


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
