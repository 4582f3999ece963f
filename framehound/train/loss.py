"""The YOLOv3 loss, on the raw tensors the [yolo] layers decode.

Each ground-truth box goes to the one anchor, across the masks of all [yolo]
layers, whose width and height overlap it best (IoU of sizes, centers
aligned), at the grid cell of its center in that layer. That prediction is
pushed towards the box (coordinates), objectness 1 and its class; every other
prediction towards objectness 0, except those whose decoded box already
overlaps some ground truth by more than the layer's ``ignore_thresh`` (they are
not wrong, only not the chosen one).

Box term: Darknet's own parameterization, binary cross-entropy on the sigmoid
cell offsets and squared error on log(size / anchor), weighted by
``2 - w·h`` so small boxes count more. It is the parameterization the
pretrained weights were trained with and the one the exported network decodes,
and each coordinate gets a gradient even when a box does not overlap its
prediction at all yet (GIoU's gradient is weak there).

A ``new_coords`` layer (YOLOv7-tiny) gets probabilities from its conv's
``logistic`` activation and sizes ``(2·p)²`` anchors wide: the loss turns them
back into logits, so every term but the size is the same, and the size term
compares log(size / anchor) = 2·log(2·sigmoid(z)) with the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from framehound.darknet.cfg import Section
from framehound.darknet.torch_model import YoloHead

DEFAULT_IGNORE_THRESH = 0.7


def ignore_thresholds(sections: list[Section]) -> list[float]:
    """``ignore_thresh`` of every [yolo] layer of a parsed cfg, in order (Darknet's default 0.7 when absent)."""
    return [float(s.options.get("ignore_thresh", DEFAULT_IGNORE_THRESH)) for s in sections if s.type == "yolo"]


def size_iou(wh: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """(M, K) IoU of M box sizes with K anchor sizes, as if their centers coincided."""
    inter = torch.min(wh[:, None, 0], anchors[None, :, 0]) * torch.min(wh[:, None, 1], anchors[None, :, 1])
    return inter / (wh.prod(1)[:, None] + anchors.prod(1)[None, :] - inter)


def box_iou_cxcywh(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of (..., P, 4) with (..., G, 4) center-size boxes: (..., P, G)."""
    a0, a1 = a[..., :2] - a[..., 2:] / 2, a[..., :2] + a[..., 2:] / 2
    b0, b1 = b[..., :2] - b[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2
    top_left = torch.max(a0[..., :, None, :], b0[..., None, :, :])
    bottom_right = torch.min(a1[..., :, None, :], b1[..., None, :, :])
    inter = (bottom_right - top_left).clamp(min=0).prod(-1)
    union = a[..., 2:].prod(-1)[..., :, None] + b[..., 2:].prod(-1)[..., None, :] - inter
    return inter / union.clamp(min=1e-9)


@dataclass
class Assignment:
    """The ground truths one [yolo] layer answers for: image, anchor, cell and the box itself."""

    target: torch.Tensor  # indices into the batch's target rows
    image: torch.Tensor
    anchor: torch.Tensor
    row: torch.Tensor
    col: torch.Tensor


def size_ratio(head: YoloHead, z: torch.Tensor) -> torch.Tensor:
    """Box size / anchor size from the head's size logits ``z`` (clamped: ``exp`` must not overflow)."""
    return (2 * torch.sigmoid(z)) ** 2 if head.new_coords else torch.exp(z.clamp(max=10))


def log_size_ratio(head: YoloHead, z: torch.Tensor) -> torch.Tensor:
    """log(box size / anchor size), what the size term compares with the target's."""
    return 2 * (math.log(2) + F.logsigmoid(z)) if head.new_coords else z


def assign(targets: torch.Tensor, heads: list[tuple[YoloHead, torch.Tensor]], input_wh: tuple[int, int]
           ) -> list[Assignment]:
    """Per head, the targets (rows ``image, class, cx, cy, w, h``, normalized) whose best anchor is in its mask."""
    device = targets.device
    anchors = torch.tensor([a for head, _ in heads for a in head.anchors], device=device, dtype=torch.float32)
    owner = torch.tensor([h for h, (head, _) in enumerate(heads) for _ in head.anchors], device=device)
    local = torch.tensor([a for head, _ in heads for a in range(len(head.anchors))], device=device)
    scale = torch.tensor(input_wh, device=device, dtype=torch.float32)
    best = size_iou(targets[:, 4:6] * scale, anchors).argmax(1) if len(targets) else owner[:0]
    result = []
    for h, (_, x) in enumerate(heads):
        rows, cols = x.shape[-2:]
        chosen = torch.nonzero(owner[best] == h).flatten()
        t = targets[chosen]
        col = (t[:, 2] * cols).long().clamp(0, cols - 1)
        row = (t[:, 3] * rows).long().clamp(0, rows - 1)
        result.append(Assignment(chosen, t[:, 0].long(), local[best[chosen]], row, col))
    return result


def yolo_loss(heads: list[tuple[YoloHead, torch.Tensor]], targets: torch.Tensor, input_wh: tuple[int, int],
              ignore: list[float]) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss (summed over predictions, averaged over images) and its box/objectness/class parts."""
    batch = heads[0][1].shape[0]
    device = targets.device
    scale = torch.tensor(input_wh, device=device, dtype=torch.float32)
    # Ground truths per image, padded with empty boxes, for the ignore test.
    counts = torch.bincount(targets[:, 0].long(), minlength=batch) if len(targets) else torch.zeros(
        batch, dtype=torch.long, device=device)
    padded = torch.zeros(batch, max(int(counts.max()), 1), 4, device=device)
    if len(targets):
        order = torch.argsort(targets[:, 0], stable=True)
        slot = torch.arange(len(targets), device=device) - torch.cumsum(counts, 0)[targets[order, 0].long()] \
            + counts[targets[order, 0].long()]
        padded[targets[order, 0].long(), slot] = targets[order, 2:6]
    parts = {"box": torch.zeros((), device=device), "obj": torch.zeros((), device=device),
             "cls": torch.zeros((), device=device)}
    for (head, x), found, threshold in zip(heads, assign(targets, heads, input_wh), ignore, strict=True):
        n, _, rows, cols = x.shape
        anchors = torch.tensor(head.anchors, device=device, dtype=torch.float32)
        p = x.float().view(n, len(head.anchors), 5 + head.classes, rows, cols).permute(0, 1, 3, 4, 2)
        if head.new_coords:
            p = torch.logit(p, eps=1e-6)  # the conv's logistic undone: every term below works on logits
        shift = (head.scale_x_y - 1) / 2
        with torch.no_grad():
            grid_x = torch.arange(cols, device=device).view(1, 1, 1, cols)
            grid_y = torch.arange(rows, device=device).view(1, 1, rows, 1)
            xy = torch.sigmoid(p[..., :2]) * head.scale_x_y - shift
            boxes = torch.stack([(grid_x + xy[..., 0]) / cols, (grid_y + xy[..., 1]) / rows,
                                 *(size_ratio(head, p[..., 2:4]) * anchors.view(1, -1, 1, 1, 2)
                                   / scale).unbind(-1)], dim=-1)
            best_iou = box_iou_cxcywh(boxes.view(n, -1, 4), padded).amax(-1).view(n, -1, rows, cols)
        objectness = torch.zeros(p.shape[:4], device=device)
        counted = best_iou <= threshold
        t = targets[found.target]
        where = (found.image, found.anchor, found.row, found.col)
        objectness[where] = 1.0
        counted[where] = True
        parts["obj"] = parts["obj"] + F.binary_cross_entropy_with_logits(
            p[..., 4][counted], objectness[counted], reduction="sum")
        if len(t):
            chosen = p[where]
            cell = torch.stack([t[:, 2] * cols - found.col, t[:, 3] * rows - found.row], dim=1)
            offset = ((cell + shift) / head.scale_x_y).clamp(0, 1)
            log_size = torch.log(t[:, 4:6] * scale / anchors[found.anchor]).clamp(min=-10)
            weight = (2 - t[:, 4] * t[:, 5])[:, None]
            size_error = (log_size_ratio(head, chosen[:, 2:4]) - log_size) ** 2
            parts["box"] = parts["box"] + (weight * F.binary_cross_entropy_with_logits(
                chosen[:, :2], offset, reduction="none")).sum() + (weight * size_error).sum()
            classes = F.one_hot(t[:, 1].long(), head.classes).float()
            parts["cls"] = parts["cls"] + F.binary_cross_entropy_with_logits(chosen[:, 5:], classes, reduction="sum")
    total = (parts["box"] + parts["obj"] + parts["cls"]) / batch
    return total, {name: float(value.detach()) / batch for name, value in parts.items()}
