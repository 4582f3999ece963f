"""Detection on a Ray actor pool: one model per GPU (or per node without GPUs), explicit batches of frames.

Actors by hand (``ray.util.ActorPool``) rather than Ray Data's ``map_batches``:
detect already batches, caches and checkpoints by frame hash, so all it needs
from Ray is "run this batch on a loaded model somewhere and give the rows
back in order", and Ray core keeps the optional install small. Each batch
travels with its JPEG bytes (read from the shards by the driver) and the model files once per actor, so workers
need no shared filesystem; rows come back and the driver commits them as
checkpoint parts, exactly as a local run does.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from framehound.darknet.cfg import read_names
from framehound.detect.backends import choose_backend
from framehound.detect.inference import detect_frames
from framehound.detect.labeler import Labeler
from framehound.model.install import ROLES
from framehound.params import DetectParams
from framehound.progress import progress
from framehound.shards import frame_ranges, read_jpeg


class DetectorActor:
    """A loaded model on one worker; ``detect`` returns the cache rows of a batch of frames."""

    def __init__(self, files: dict[str, bytes], params: DetectParams) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="framehound-detect-"))
        for name, data in files.items():
            (self.home / name).write_bytes(data)
        self.params = params
        self.labeler = Labeler.build(choose_backend(params.backend)[0], self.home, params)
        self.names = read_names((self.home / "model.names").read_text(encoding="utf-8"))

    def backend(self) -> str:
        return self.labeler.name

    def detect(self, batch: list[tuple[str, str, bytes]]) -> pd.DataFrame:
        """Cache rows for ``(frame_id, sha256, jpeg)`` triples."""
        # The batch's JPEGs end to end in one file: to detect_frames, a shard like extract's.
        with tempfile.NamedTemporaryFile(dir=self.home, suffix=".bin") as joined:
            offsets = np.cumsum([0] + [len(jpeg) for _, _, jpeg in batch])
            joined.write(b"".join(jpeg for _, _, jpeg in batch))
            joined.flush()
            frames = pd.DataFrame({"frame_id": [b[0] for b in batch], "sha256": [b[1] for b in batch],
                                   "shard": joined.name, "offset": offsets[:-1], "size": np.diff(offsets)})
            result = detect_frames(frames, self.labeler, self.names)
        return result.cache  # undecodable frames are left to the driver's pass, which records them


def start_actors(ray: ModuleType, model_dir: Path, params: DetectParams) -> tuple[list, str]:
    """One actor per GPU of the cluster, or per node when it has none; and their backend's name."""

    files = ray.put({f"model.{role}": (model_dir / f"model.{role}").read_bytes() for role in ROLES})
    gpus = int(ray.cluster_resources().get("GPU", 0))
    count = gpus or max(1, len([n for n in ray.nodes() if n.get("Alive") and n["Resources"].get("CPU")]))
    actor = ray.remote(num_gpus=1 if gpus else 0, num_cpus=0 if gpus else 1, max_restarts=3,
                       max_task_retries=3)(DetectorActor)
    actors = [actor.remote(files, params) for _ in range(count)]
    return actors, ray.get(actors[0].backend.remote())


def detect_on_actors(actors: list, frames: pd.DataFrame, batch_frames: int) -> Iterator[pd.DataFrame]:
    """Cache rows for ``frames`` (one row set per distinct JPEG), batch by batch, in order."""
    from ray.util import ActorPool

    unique = frames.drop_duplicates("sha256")
    batches = [unique.iloc[i:i + batch_frames] for i in range(0, len(unique), batch_frames)]

    pool = ActorPool(actors)
    payloads = ([(f, r[3], read_jpeg(*r)) for f, r in zip(b["frame_id"], frame_ranges(b), strict=True)]
                for b in batches)
    results = pool.map(lambda actor, batch: actor.detect.remote(batch), payloads)
    yield from progress(results, desc="detect", total=len(batches), unit="batch")
