"""Write a trained network as a Darknet model folder: model.cfg, model.weights, model.names.

model.weights is Darknet's format 0.2: int32 major=0, minor=2, revision=0,
int64 ``seen`` (images trained on), then every [convolutional] layer's float32
values in cfg order, batch norm kept apart (not folded), so Darknet can go on
training from it and OpenCV and the torch backend load it as any model.
"""

from __future__ import annotations

from pathlib import Path

from framehound.atomic import write_bytes, write_text
from framehound.darknet.layers import write_weights
from framehound.darknet.torch_model import DarknetNet
from framehound.train.network import TrainConv


def weights_bytes(net: DarknetNet, seen: int) -> bytes:
    return write_weights((layer.darknet_floats() for layer in net.layers if isinstance(layer, TrainConv)), seen)


def export_model(net: DarknetNet, cfg: str, classes: list[str], seen: int, folder: Path) -> None:
    """The model folder the detect stage and ``model=custom`` read."""
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / "model.cfg", cfg)
    write_bytes(folder / "model.weights", weights_bytes(net, seen))
    write_text(folder / "model.names", "".join(f"{name}\n" for name in classes))
