"""How long grouping takes at scale: cross-video near-duplicate search over N random frame hashes.

Prints seconds for N hashes spread over N / 300 videos (300 frames each, as 1,000 videos
x 300 frames would be at N = 300,000), for distances 4 and 8. Random hashes are the
worst case for the multi-index buckets being balanced, not for their count of matches.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from framehound.screen.groups import near_pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hashes", type=int, default=300_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, args.hashes, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, args.hashes,
                                                                                                dtype=np.uint64)
    owners = np.arange(args.hashes) // 300
    for distance in (4, 8):
        started = time.perf_counter()
        pairs = near_pairs(hashes, owners, distance)
        print(f"{args.hashes} hashes, {args.hashes // 300} videos, distance {distance}: "
              f"{time.perf_counter() - started:.1f} s, {len(pairs)} pairs")


if __name__ == "__main__":
    main()
