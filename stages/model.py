"""Stage model: fetch and verify the Darknet files named by params.model."""

from pathlib import Path

from framehound.model.install import install_model, model_dir
from framehound.params import Params
from framehound.stage import run_stage


def main(params: Params) -> str:
    target = model_dir(Path("."), params)
    digests = install_model(params.model, target)
    return f"{params.model.name} in {target} (weights sha256 {digests['weights'][:12]}…)"


if __name__ == "__main__":
    run_stage("model", main)
