"""Do two backends find the same boxes? For a GPU machine, where OpenCV cannot load Darknet files.

    python bench/parity.py write  --frames-dir F --model-dir M --out ref.json   # here: OpenCV, CPU, fp32
    python bench/parity.py compare --frames-dir F --model-dir M --reference ref.json --backend torch --half
    python bench/parity.py compare ... --reference ov_fp32.json --backend openvino --precision bf16

``compare`` runs the same frames through another backend (PyTorch on CUDA in
fp16, say) and reports, for the reference boxes with confidence >= 0.25, the
share matched by a box of the same class at IoU >= 0.95 (``--min-iou``), the
worst confidence difference, and the boxes it finds at that confidence that
the reference lacks. Needs numpy, OpenCV and (for torch, openvino) PyTorch
and OpenVINO only: no pandas, no ffmpeg, no Darknet importer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from framehound.boxes import Box, greedy_pairs
from framehound.detect.backends import build_detector
from framehound.detect.detector import network_input
from framehound.detect.postprocess import decode, nms_per_class
from framehound.params import DetectParams

MIN_IOU, GOAL = 0.95, 0.99


def detections(backend: str, model_dir: Path, frames: list[Path], size: int, half: bool, floor: float,
               nms: float, precision: str = "fp32") -> dict[str, list[dict]]:
    """Every frame's boxes (class index, confidence, corners) from ``backend``, 16 frames a batch."""
    detector = build_detector(backend, model_dir, DetectParams(
        backend=backend, half=half, precision=precision, batch_size=16, input_size=size, conf_floor=floor,
        nms_threshold=nms, checkpoint_seconds=0))
    found: dict[str, list[dict]] = {}
    for start in range(0, len(frames), 16):
        chunk = frames[start:start + 16]
        images = [cv2.imread(str(p)) for p in chunk]
        rows = detector.infer(np.stack([network_input(i, size) for i in images]), floor)
        for path, image, frame_rows in zip(chunk, images, rows, strict=True):
            kept = nms_per_class(decode(frame_rows, image.shape[1], image.shape[0], floor), nms)
            found[path.name] = [{"class_id": int(c), "confidence": float(s), "xyxy": [float(v) for v in b]}
                                for c, s, b in zip(kept.class_id, kept.confidence, kept.xyxy, strict=True)]
    return found


def compare(reference: dict[str, list[dict]], other: dict[str, list[dict]], min_confidence: float = 0.25,
            min_iou: float = MIN_IOU) -> dict:
    """Share of confident reference boxes that ``other`` reproduces (same class, IoU >= ``min_iou``).

    ``added`` and ``dropped`` are what a threshold at ``min_confidence`` (``filter.min_confidence``, say)
    would change in a dataset: boxes over it on one side only, unmatched by the other side's boxes over it.
    """
    total = matched = added = dropped = 0
    worst_confidence = 0.0
    ious: list[float] = []
    for frame, ref in reference.items():
        mine = other.get(frame, [])
        a = [Box(str(d["class_id"]), *d["xyxy"], d["confidence"]) for d in ref if d["confidence"] >= min_confidence]
        b = [Box(str(d["class_id"]), *d["xyxy"], d["confidence"]) for d in mine]
        pairs = greedy_pairs(a, b, min_iou, lambda i, j, a=a, b=b: a[i].class_name == b[j].class_name)
        total, matched = total + len(a), matched + len(pairs)
        confident = [box for box in b if box.confidence >= min_confidence]
        kept = greedy_pairs(a, confident, min_iou, lambda i, j, x=a, y=confident: x[i].class_name == y[j].class_name)
        added, dropped = added + len(confident) - len(kept), dropped + len(a) - len(kept)
        for i, j, iou in pairs:
            ious.append(iou)
            worst_confidence = max(worst_confidence, abs(a[i].confidence - b[j].confidence))
    share = matched / total if total else 1.0
    return {"reference_boxes": total, "matched": matched, "added": added, "dropped": dropped,
            "share": round(share, 4), "goal": GOAL, "met": share >= GOAL,
            "min_iou_of_matched": round(min(ious), 4) if ious else None,
            "mean_iou_of_matched": round(float(np.mean(ious)), 4) if ious else None,
            "max_confidence_difference": round(worst_confidence, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["write", "compare"])
    parser.add_argument("--frames-dir", required=True)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--out", help="write: where the reference goes")
    parser.add_argument("--reference", help="compare: the reference written here")
    parser.add_argument("--backend", default="opencv", choices=["opencv", "torch", "openvino"])
    parser.add_argument("--half", action="store_true")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "int8", "auto"], help="openvino")
    parser.add_argument("--min-iou", type=float, default=MIN_IOU, help="compare: a box matches at this IoU")
    parser.add_argument("--input-size", type=int, default=416)
    parser.add_argument("--conf-floor", type=float, default=0.05)
    parser.add_argument("--nms-threshold", type=float, default=0.45)
    parser.add_argument("--min-confidence", type=float, default=0.25, help="compare: reference boxes judged")
    args = parser.parse_args()
    frames = sorted(Path(args.frames_dir).rglob("*.jpg"))
    found = detections(args.backend, Path(args.model_dir), frames, args.input_size, args.half,
                       args.conf_floor, args.nms_threshold, args.precision)
    if args.action == "write":
        Path(args.out).write_text(json.dumps(found, sort_keys=True))
        print(f"{sum(map(len, found.values()))} boxes on {len(found)} frames -> {args.out}")
        return
    result = compare(json.loads(Path(args.reference).read_text()), found, args.min_confidence, args.min_iou)
    ran = args.backend + (" fp16" if args.half else "") + (f" {args.precision}" if args.backend == "openvino" else "")
    print(json.dumps(result | {"backend": ran, "frames": len(frames)}))
    sys.exit(0 if result["met"] else 1)


if __name__ == "__main__":
    main()
