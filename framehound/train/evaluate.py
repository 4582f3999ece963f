"""mAP of a network on a split, by pycocotools' COCOeval on ground truth and detections built in memory.

Detections are made as the detect stage makes them (``network_input``, the
[yolo] decoding, ``decode`` and per-class NMS), with a low floor as COCO
evaluation expects, so the figure says how the exported model will do there.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import torch

from framehound.darknet.torch_model import DarknetNet
from framehound.detect.postprocess import BoxColumns, decode, nms_per_class
from framehound.train.data import Sample, load_input

CONF_FLOOR = 0.005
NMS_THRESHOLD = 0.45


def predict(net: DarknetNet, samples: list[Sample], size: int, device: torch.device, batch_size: int = 16
            ) -> list[BoxColumns]:
    """Per sample its detections in pixels of the original image (the network is left in eval mode)."""
    net.eval()
    found = []
    with torch.inference_mode():
        for start in range(0, len(samples), batch_size):
            chunk = samples[start:start + batch_size]
            batch = torch.from_numpy(np.stack([load_input(s, size) for s in chunk])).to(device)
            rows = net(batch.permute(0, 3, 1, 2).float().mul_(1 / 255.0)).cpu().numpy()
            found += [nms_per_class(decode(r, s.width, s.height, CONF_FLOOR), NMS_THRESHOLD)
                      for r, s in zip(rows, chunk, strict=True)]
    return found


def coco_map(samples: list[Sample], classes: list[str], detections: list[BoxColumns]) -> dict:
    """``{"map50", "map", "per_class": {name: {"map50", "map"}}}``; a class without ground truth gets None."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    index = {name: i for i, name in enumerate(classes)}
    truth = {"images": [], "annotations": [],
             "categories": [{"id": i + 1, "name": name} for i, name in enumerate(classes)]}
    results = []
    for image_id, (sample, found) in enumerate(zip(samples, detections, strict=True), start=1):
        truth["images"].append({"id": image_id, "width": sample.width, "height": sample.height})
        for box in sample.boxes:
            x, y, w, h = box.xywh()
            truth["annotations"].append({"id": len(truth["annotations"]) + 1, "image_id": image_id,
                                         "category_id": index[box.class_name] + 1, "bbox": [x, y, w, h],
                                         "area": w * h, "iscrowd": 0})
        for cls, score, (x0, y0, x1, y1) in zip(found.class_id, found.confidence, found.xyxy.tolist(), strict=True):
            results.append({"image_id": image_id, "category_id": int(cls) + 1, "score": float(score),
                            "bbox": [x0, y0, x1 - x0, y1 - y0]})
    empty = {"map50": 0.0, "map": 0.0}
    has_truth = {i: any(a["category_id"] == i + 1 for a in truth["annotations"]) for i in range(len(classes))}
    if not results:
        return {**empty, "per_class": {name: empty if has_truth[i] else None for i, name in enumerate(classes)}}
    with contextlib.redirect_stdout(io.StringIO()):  # COCOeval prints its progress and table
        gt = COCO()
        gt.dataset = truth
        gt.createIndex()
        evaluation = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    # precision: [IoU thresholds 0.5:0.95, recall points, classes, area ranges (0: all), max detections (2: 100)]
    precision = evaluation.eval["precision"][:, :, :, 0, 2]

    def mean(values: np.ndarray) -> float | None:
        valid = values[values > -1]
        return float(valid.mean()) if valid.size else None

    per_class = {name: ({"map50": mean(precision[0, :, i]), "map": mean(precision[:, :, i])}
                        if has_truth[i] else None) for i, name in enumerate(classes)}
    return {"map50": float(max(evaluation.stats[1], 0.0)), "map": float(max(evaluation.stats[0], 0.0)),
            "per_class": per_class}
