"""Videos that share content: one group each, so a split never puts the same images on both sides.

Video sites carry the same footage under many URLs, re-encoded, resized or
trimmed, so equal bytes are the rare case. Two videos are grouped when their
files are identical, or when any screened frame of one is a near-duplicate of a
frame of the other (perceptual hashes at most ``max_distance`` bits apart, the
same measure screen uses within a video): one such pair in train and test is
already the leak, and an excerpt re-uploaded may share only a few frames. The
price is that a shared logo or intro joins videos too, which costs split
balance, never a leak. Grouping is transitive.

Near-duplicate pairs are found with multi-index hashing rather than by
comparing every pair: hashes at most d bits apart agree exactly on at least one
of d + 1 disjoint bit ranges (pigeonhole), so only frames sharing a range's
value are compared.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

# A flat frame (a black fade, a title card) hashes to few or almost all bits set: shared by unrelated videos.
MIN_BITS, MAX_BITS = 8, 56


@dataclass(frozen=True)
class Link:
    """Why two videos are one group."""

    video_a: str
    video_b: str
    reason: str


def near_pairs(hashes: np.ndarray, owners: np.ndarray, max_distance: int) -> np.ndarray:
    """(i, j) index pairs, i < j, of hashes of different owners at most ``max_distance`` bits apart."""
    values = hashes.astype(np.uint64)
    ranges = np.array_split(np.arange(64), max_distance + 1)
    found = []
    for bits in ranges:
        mask = np.uint64(((1 << len(bits)) - 1) << int(bits[0]))
        keys = values & mask
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        ends = np.r_[starts[1:], len(order)]
        for start, end in zip(starts[ends - starts > 1], ends[ends - starts > 1], strict=True):
            members = order[start:end]
            i, j = np.triu_indices(len(members), 1)
            a, b = members[i], members[j]
            keep = (owners[a] != owners[b]) & (np.bitwise_count(values[a] ^ values[b]) <= max_distance)
            found.append(np.stack([np.minimum(a, b)[keep], np.maximum(a, b)[keep]], axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found), axis=0)


def links(quality: pd.DataFrame, sha256_of: dict[str, str], max_distance: int) -> list[Link]:
    """Every reason to join two videos: equal files, then shared near-duplicate frames."""
    found = []
    by_file: dict[str, list[str]] = {}
    for video, digest in sorted(sha256_of.items()):
        if digest:  # an unknown hash is no evidence of anything shared
            by_file.setdefault(digest, []).append(video)
    for same in by_file.values():
        found += [Link(same[0], other, "same file") for other in same[1:]]
    usable = quality[quality["rejected_by"].isin(["", "duplicate"]) & (quality["dhash"] != "")]
    hashes = np.array([int(h, 16) for h in usable["dhash"]], dtype=np.uint64)
    bits = np.bitwise_count(hashes)
    textured = (bits >= MIN_BITS) & (bits <= MAX_BITS)
    hashes, owners = hashes[textured], usable["video_id"].to_numpy(dtype=object)[textured]
    pairs = near_pairs(hashes, owners, max_distance)
    counts = Counter(tuple(sorted((owners[i], owners[j]))) for i, j in pairs)
    found += [Link(a, b, f"{n} near-duplicate frame pairs") for (a, b), n in sorted(counts.items())]
    return found


def content_groups(videos: list[str], found: list[Link]) -> pd.DataFrame:
    """One row per video: its group (the group's first video id) and why it is in it ('' when alone)."""
    parent = {v: v for v in videos}

    def root(v: str) -> str:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    reasons: dict[str, list[str]] = {v: [] for v in videos}
    for link in found:
        if link.video_a in parent and link.video_b in parent:
            a, b = sorted((root(link.video_a), root(link.video_b)))
            parent[b] = a
            reasons[link.video_a].append(f"{link.reason} with {link.video_b}")
            reasons[link.video_b].append(f"{link.reason} with {link.video_a}")
    rows = [{"video_id": v, "group": root(v), "reason": "; ".join(sorted(reasons[v]))} for v in sorted(videos)]
    return pd.DataFrame(rows, columns=["video_id", "group", "reason"])
