"""Why a dataset can be empty on purpose: filter.incomplete left every labelled image out.

With ``filter.incomplete: review`` or ``drop`` on footage where every labelled
image has an unlabelled object, filter keeps nothing. That is no threshold
problem (lowering ``filter.min_confidence`` would only hold more), so split
writes the empty dataset, evaluate and report still run and show what is
held, and the warning names the policy and the way out.
"""

from __future__ import annotations

import pandas as pd

WAYS_OUT = {
    "held": ("filter.incomplete: review holds {n} labelled image(s) until a person decides: run "
             "`framehound review` to decide them, or set filter.incomplete: mask to grey out their unlabelled "
             "objects"),
    "dropped": ("filter.incomplete: drop left out {n} labelled image(s) with unlabelled objects: set "
                "filter.incomplete: mask to grey those objects out, or review to decide them in `framehound review`"),
}


def left_out_by_policy(unlabelled: pd.DataFrame) -> str:
    """What filter.incomplete held or dropped and how to get it back, one sentence; "" when nothing."""
    images = unlabelled.drop_duplicates("frame_id")["outcome"].value_counts()
    return "; ".join(text.format(n=int(images[outcome])) for outcome, text in WAYS_OUT.items()
                     if images.get(outcome, 0))
