import random

import pytest

from vzero_data.fingerprints.phash_index import MAX_DISTANCE_LIMIT, chunk_masks, near_pairs


def brute(queries, targets, d):
    return sorted(
        (i, j, (a ^ b).bit_count())
        for i, a in enumerate(queries)
        for j, b in enumerate(targets)
        if (a ^ b).bit_count() <= d
    )


def flip(h, bits):
    for b in bits:
        h ^= 1 << b
    return h


@pytest.fixture(scope="module")
def hashes():
    rng = random.Random(0)
    queries = [rng.getrandbits(64) for _ in range(200)]
    # near copies at every distance 0..15, bits spread over all four chunks or packed into one
    targets = [rng.getrandbits(64) for _ in range(200)]
    for d in range(16):
        targets.append(flip(queries[d], rng.sample(range(64), d)))
        targets.append(flip(queries[20 + d], range(d)))  # all in the lowest chunks
    return queries, targets


@pytest.mark.parametrize("max_distance", [0, 1, 3, 4, 7, 10, 12, 15])
def test_the_index_finds_exactly_the_pairs_all_pairs_would(hashes, max_distance):
    queries, targets = hashes
    assert near_pairs(queries, targets, max_distance) == brute(queries, targets, max_distance)


def test_either_side_may_be_the_smaller(hashes):
    queries, targets = hashes
    flipped = [(j, i, d) for i, j, d in near_pairs(targets, queries[:30], 10)]
    assert sorted(flipped) == brute(queries[:30], targets, 10)


def test_same_set_lists_each_pair_once_and_never_a_hash_with_itself():
    h = [0, 1, 0b11, 1 << 40, 0]
    assert near_pairs(h, h, 2, same_set=True) == [
        (0, 1, 1),
        (0, 2, 2),
        (0, 3, 1),
        (0, 4, 0),
        (1, 2, 1),
        (1, 3, 2),
        (1, 4, 1),
        (2, 4, 2),
        (3, 4, 1),
    ]


@pytest.mark.parametrize("bad", [-1, MAX_DISTANCE_LIMIT + 1])
def test_distance_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="max_distance"):
        near_pairs([1], [1], bad)


def test_masks_cover_every_pattern_within_the_radius():
    assert len(chunk_masks(2)) == 1 + 16 + 120 and len(set(chunk_masks(3))) == 697


def test_empty_sides():
    assert near_pairs([], [1], 4) == [] and near_pairs([1], [], 4) == []
