"""Small JPEG thumbnails of frames with their boxes drawn, as data URIs.

Data URIs keep the page one file that opens from disk; a fixed side and a
fixed sample per class keep it small whatever the size of the dataset.
"""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pandas as pd

from framehound.boxes import Box
from framehound.errors import FramehoundError
from framehound.filter.completeness import mask_regions

THUMB_SIDE = 200
JPEG_QUALITY = 70


def class_colour(index: int) -> tuple[int, int, int]:
    """A distinct RGB colour per class index (golden-angle hues), the same in thumbnails and legend."""
    hue = int((index * 137.508) % 360) // 2
    bgr = cv2.cvtColor(np.uint8([[[hue, 200, 235]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[2]), int(bgr[1]), int(bgr[0])


UNLABELLED_BGR = ((0, 0, 0), (255, 255, 255))  # white on black, no class's colour: an object without a label


def thumbnail(jpeg: bytes, name: str, boxes: pd.DataFrame, unlabelled: pd.DataFrame | None = None,
              grey: pd.DataFrame | None = None) -> str:
    """``data:`` URI of the frame ``jpeg`` as a trainer gets it (the ``grey`` boxes masked, as split masks them),
    scaled to THUMB_SIDE, with ``boxes`` (pixel coords) in class colours and the ``unlabelled`` objects' boxes
    in white on black."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) if jpeg else None
    if image is None:
        raise FramehoundError(f"{name}: cannot read frame")
    if grey is not None and len(grey):
        image = mask_regions(image, [Box.from_row(r) for r in grey.itertuples(index=False)],
                             [Box.from_row(r) for r in boxes.itertuples(index=False)])
    scale = THUMB_SIDE / max(image.shape[:2])
    small = cv2.resize(image, (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA)
    for box in boxes.itertuples():
        r, g, b = class_colour(int(box.class_index))
        cv2.rectangle(small, (round(box.x_min * scale), round(box.y_min * scale)),
                      (round(box.x_max * scale), round(box.y_max * scale)), (b, g, r), 2)
    for box in unlabelled.itertuples() if unlabelled is not None else ():
        for colour, width in zip(UNLABELLED_BGR, (3, 1), strict=True):
            cv2.rectangle(small, (round(box.x_min * scale), round(box.y_min * scale)),
                          (round(box.x_max * scale), round(box.y_max * scale)), colour, width)
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise FramehoundError(f"{name}: cannot encode thumbnail")
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")
