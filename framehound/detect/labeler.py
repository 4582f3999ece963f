"""The labeler: every pass of a batch of frames through the network, fused into one set of boxes a frame.

One detector per input size (a backend builds its network for one size);
the mirrored views of a batch ride in the same forward call as the
originals. Each pass's rows are mapped back to the frame, decoded and
thinned by NMS on their own, then fused (``fusion``); with a single pass
the result is exactly that pass's boxes.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framehound.detect.backends import build_detector
from framehound.detect.detector import Detector, network_input
from framehound.detect.fusion import weighted_box_fusion
from framehound.detect.passes import Pass, Placement, mirrored, passes, to_frame
from framehound.detect.postprocess import BoxColumns, decode, nms_per_class
from framehound.params import DetectParams


@dataclass
class Labeler:
    """Detectors by input size, the passes to run, and the box settings that turn rows into boxes."""

    detectors: dict[int, Detector]
    passes: tuple[Pass, ...]
    conf_floor: float
    nms_threshold: float
    fusion_iou: float
    network_s: float = 0.0  # time inside ``infer``: near the wall time, the network is the bottleneck

    @classmethod
    def build(cls, backend: str, model_dir: Path, params: DetectParams) -> Labeler:
        sizes = params.sizes
        detectors = {size: build_detector(backend, model_dir,
                                          dataclasses.replace(params, input_size=size, extra_sizes=[]))
                     for size in sizes}
        return cls(detectors, passes(sizes, params.flip, params.letterbox), params.conf_floor,
                   params.nms_threshold, params.fusion_iou)

    @classmethod
    def single(cls, detector: Detector, conf_floor: float, nms_threshold: float) -> Labeler:
        """One stretched pass of one detector: the plain detector as a labeler."""
        return cls({detector.input_size: detector}, (Pass(detector.input_size),), conf_floor, nms_threshold, 1.0)

    @property
    def name(self) -> str:
        """What ran: the backend's own name (every size runs the same backend)."""
        return next(iter(self.detectors.values())).name

    @property
    def runtime(self) -> str:
        """What ran, to the model: each size's runtime and version (OpenVINO: and its model's digest)."""
        return "; ".join(dict.fromkeys(getattr(d, "runtime", "") for d in self.detectors.values() if
                                       getattr(d, "runtime", "")))

    @property
    def batch_size(self) -> int:
        return next(iter(self.detectors.values())).batch_size

    def settings(self) -> dict[str, object]:
        """What of the labeler changes its boxes beyond the model and backend: part of the cache key.

        A single stretched pass adds nothing, so caches made before passes existed stay valid.
        """
        if self.passes == (Pass(next(iter(self.detectors))),):
            return {}
        return {"passes": [p.name for p in self.passes], "fusion_iou": self.fusion_iou}

    def describe(self) -> str:
        """The passes for the stage's summary line."""
        fused = f", fused by WBF at IoU {self.fusion_iou}" if len(self.passes) > 1 else ""
        names = " ".join(p.name for p in self.passes)
        return f"{len(self.passes)} pass{'es' if len(self.passes) > 1 else ''} ({names}){fused}"

    def inputs(self, image_bgr: np.ndarray) -> dict[tuple[int, bool], np.ndarray]:
        """The frame's network input for each view the passes need (mirroring is done per batch, later)."""
        return {view: network_input(image_bgr, *view) for view in dict.fromkeys(p.view for p in self.passes)}

    def label(self, inputs: list[dict[tuple[int, bool], np.ndarray]],
              sizes: list[tuple[int, int]]) -> list[BoxColumns]:
        """Fused boxes of each frame, given its ``inputs`` and its ``(width, height)``.

        Every pass of one input size goes to its network in one call: the batch's frames in each view.
        """
        raw: dict[Pass, list[np.ndarray]] = {}
        count = len(inputs)
        for size, detector in self.detectors.items():
            mine = [p for p in self.passes if p.size == size]
            stacked = {view: np.stack([frame[view] for frame in inputs])
                       for view in dict.fromkeys(p.view for p in mine)}
            views = np.concatenate([mirrored(stacked[p.view]) if p.flip else stacked[p.view] for p in mine])
            started = time.perf_counter()
            rows = detector.infer(views, min_objectness=self.conf_floor)
            self.network_s += time.perf_counter() - started
            for k, p in enumerate(mine):
                raw[p] = rows[k * count:(k + 1) * count]
        boxes = []
        for i, (width, height) in enumerate(sizes):
            found = []
            for view in self.passes:
                place = Placement.of(width, height, view.size, view.letterbox)
                rows = to_frame(raw[view][i], place, view.flip)
                found.append(nms_per_class(decode(rows, width, height, self.conf_floor), self.nms_threshold))
            boxes.append(weighted_box_fusion(found, self.fusion_iou))
        return boxes
