"""detect runs the real yolov3-tiny through OpenCV DNN on real footage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from framehound.darknet.cfg import parse_cfg, read_names, with_detection_threshold
from framehound.detect.opencv_dnn import OpenCVDetector, choose_backend
from framehound.detect.postprocess import Boxes, decode, nms_per_class
from framehound.detect.run import detect_frames
from framehound.errors import FramehoundError
from framehound.extract.frames import ExtractSettings, extract_frames


@pytest.fixture(scope="module")
def detector(model_dir):
    return OpenCVDetector(model_dir, input_size=416, conf_floor=0.05, backend="cpu")


@pytest.fixture(scope="module")
def names(model_dir):
    return read_names((model_dir / "model.names").read_text())


def _detect(detector, names, frames: pd.DataFrame) -> pd.DataFrame:
    detections, _ = detect_frames(frames, detector, names, conf_floor=0.05, nms_threshold=0.45)
    return detections


def test_finds_a_person_in_street_footage(tmp_path, bikes, detector, names):
    rows = extract_frames(bikes, "bikes", tmp_path, ExtractSettings(fps=2, max_frames=20, max_side=640,
                                                                    qscale=2))
    frames = pd.DataFrame(rows).assign(path=lambda f: f["path"].astype(str))
    detections = _detect(detector, names, frames)
    people = detections[detections["class_name"] == "person"]
    assert people["confidence"].max() > 0.5
    best = people.sort_values("confidence").iloc[-1]
    assert 0 <= best["x_min"] < best["x_max"] <= 640 and 0 <= best["y_min"] < best["y_max"] <= 272
    assert detections["confidence"].min() >= 0.05


def test_finds_nothing_in_a_black_frame(tmp_path, detector, names):
    import cv2

    cv2.imwrite(str(tmp_path / "black.jpg"), np.zeros((360, 640, 3), np.uint8))
    frames = pd.DataFrame([{"frame_id": "black_0", "path": str(tmp_path / "black.jpg")}])
    assert _detect(detector, names, frames).empty


def test_an_undecodable_frame_is_recorded_not_fatal(tmp_path, detector, names):
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    frames = pd.DataFrame([{"frame_id": "bad_0", "path": str(tmp_path / "bad.jpg")}])
    detections, failures = detect_frames(frames, detector, names, 0.05, 0.45)
    assert detections.empty
    assert failures.to_dict("records") == [
        {"source": "detect", "target": "bad_0", "reason": "image could not be decoded"}]


def test_decode_maps_fractions_to_pixels_and_keeps_every_class_over_the_floor():
    row = np.zeros((1, 8), np.float32)
    row[0, :4] = [0.5, 0.5, 0.2, 0.4]
    row[0, 5:] = [0.9, 0.01, 0.3]
    boxes = decode([row], width=1000, height=500, conf_floor=0.05)
    assert boxes.class_id.tolist() == [0, 2]
    assert boxes.confidence.tolist() == pytest.approx([0.9, 0.3])
    assert boxes.xyxy[0].tolist() == pytest.approx([400, 150, 600, 350])


def test_nms_is_per_class():
    xyxy = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]], np.float32)
    boxes = Boxes(np.array([0, 0, 1], np.int32), np.array([0.9, 0.8, 0.7], np.float32), xyxy)
    kept = nms_per_class(boxes, 0.45)
    assert kept.class_id.tolist() == [0, 1]
    assert kept.confidence.tolist() == pytest.approx([0.9, 0.7])


def test_cfg_threshold_is_rewritten_in_every_yolo_layer(model_dir):
    text = with_detection_threshold((model_dir / "model.cfg").read_text(), 0.05)
    yolo = [s for s in parse_cfg(text) if s.type == "yolo"]
    assert len(yolo) == 2 and all(s.options["thresh"] == "0.05" for s in yolo)


def test_cuda_backend_without_cuda_is_a_clear_error():
    from framehound.detect.opencv_dnn import cuda_available

    if cuda_available():
        pytest.skip("this OpenCV has CUDA and a device")
    with pytest.raises(FramehoundError, match=r"^detect.backend: cuda requested"):
        choose_backend("cuda")
    assert choose_backend("auto")[0] == "cpu"
