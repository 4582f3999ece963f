"""Where every stage reads and writes: the data layout, named once.

dvc.yaml loads this file as ``vars`` (DVC reads the literal assignments of a
``.py`` file), so ``${paths.frames}`` there and ``paths.frames`` here are the
same string: the stages, ``framehound review``, ``framehound diff`` and the
benchmarks cannot drift from the pipeline's declared outputs. Keep it to
plain string literals; DVC cannot evaluate anything else. Paths are relative
to the project root, where dvc.yaml is.
"""


class paths:
    params = "params.yaml"
    checked = "data/checked"
    models = "models"
    videos = "data/videos"
    fetch = "data/fetch"
    videos_table = "data/fetch/videos.csv"
    frames = "data/frames"
    extract = "data/extract"
    extract_frames = "data/extract/frames.parquet"
    screen = "data/screen"
    screen_frames = "data/screen/frames.parquet"
    quality = "data/screen/quality.parquet"
    groups = "data/screen/groups.parquet"
    screen_cache = "data/screen-cache"
    detect = "data/detect"
    detections = "data/detect/detections.parquet"
    detect_runtime = "data/detect/runtime.json"
    detect_cache = "data/detect-cache"
    filter = "data/filter"
    reviews = "reviews"
    decisions = "reviews/decisions.jsonl"
    dataset = "data/dataset"
    attribution = "data/dataset/attribution.csv"
    report = "data/report"
    train = "data/train"
    train_model = "data/train/model"
    metrics_screen = "metrics/screen.json"
    metrics_filter = "metrics/filter.json"
    metrics_quality = "metrics/quality.json"
    scored_images = "data/evaluate/images.csv"
    threshold_sweep = "data/evaluate/sweep.csv"
    groundtruth = "groundtruth"
    metrics_dataset = "metrics/dataset.json"
    metrics_train = "metrics/train.json"
    plots = "plots"
    plots_train = "plots/train.csv"


def declared() -> dict[str, str]:
    """Every name of ``paths`` and its path, as dvc.yaml sees them."""
    return {k: v for k, v in vars(paths).items() if not k.startswith("_")}
