"""Classes are renumbered as filter.classes orders them, and splits keep each video whole."""

from __future__ import annotations

import pytest

from framehound.errors import FramehoundError
from framehound.filter.rules import class_indices
from framehound.split.assign import assign_videos


def test_classes_are_renumbered_in_the_order_given():
    assert class_indices(["car", "person"], ["person", "bicycle", "car"]) == {"car": 0, "person": 1}


def test_an_unknown_class_lists_the_valid_ones():
    with pytest.raises(FramehoundError, match=r"^filter.classes: unknown class 'dgo' \(did you mean 'dog'\?"):
        class_indices(["dgo"], ["person", "dog"])


def test_videos_are_assigned_whole_close_to_the_ratios_and_reproducibly():
    videos = {f"v{i:02d}": 10 + i for i in range(20)}
    ratios = {"train": 0.7, "val": 0.2, "test": 0.1}
    first = assign_videos(videos, ratios, seed=1)
    assert first == assign_videos(dict(reversed(list(videos.items()))), ratios, seed=1)
    assert set(first) == set(videos)
    total = sum(videos.values())
    for split, ratio in ratios.items():
        share = sum(n for v, n in videos.items() if first[v] == split) / total
        assert share == pytest.approx(ratio, abs=0.06)
    assert assign_videos(videos, ratios, seed=2) != first


def test_a_zero_ratio_split_gets_no_video():
    split = assign_videos({"a": 5, "b": 5, "c": 5}, {"train": 0.8, "val": 0.2, "test": 0.0}, seed=0)
    assert "test" not in split.values()


@pytest.mark.parametrize("seed", range(8))
def test_with_as_many_videos_as_splits_no_split_is_left_empty(seed):
    # one big video and a few small ones: matching 0.7/0.2/0.1 by frames alone would leave test empty
    videos = {"street": 40, "crowd": 24, "bikes": 4, "desk": 3}
    split = assign_videos(videos, {"train": 0.7, "val": 0.2, "test": 0.1}, seed=seed)
    assert set(split.values()) == {"train", "val", "test"}
    assert assign_videos({"a": 9, "b": 1}, {"train": 0.7, "val": 0.2, "test": 0.1}, seed=seed).keys() == {"a", "b"}
