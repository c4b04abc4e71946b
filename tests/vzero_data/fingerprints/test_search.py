"""``find_matches``: how each kind of copy is found, and what breaks when a part is switched off."""

import numpy as np
import pytest

from tests.near_duplicates import cropped, jittered, jpeg, region_crop, resized
from vzero_data.fingerprints.compute import (
    BENCHMARK_FEATURES,
    BENCHMARK_MAX_SIDE,
    CROP_FEATURES,
    fingerprint,
    grey,
)
from vzero_data.fingerprints.search import Picture, find_matches


def pic(key, rgb, **kw):
    gray = grey(rgb)
    return Picture(key, fingerprint(rgb, **kw), lambda: gray)


@pytest.fixture(scope="module")
def targets(big_photo, photos, scenes):
    bench = [big_photo, *photos[:2], *scenes[:2]]
    return [
        pic(i, im, features=BENCHMARK_FEATURES, max_side=BENCHMARK_MAX_SIDE) for i, im in enumerate(bench)
    ], bench


@pytest.fixture(scope="module")
def queries(targets):
    _, bench = targets
    rng = np.random.default_rng(3)
    copies = [
        ("half", 1, resized(bench[1], 0.5)),
        ("jpeg60", 3, jpeg(bench[3])),
        ("jitter", 4, jittered(bench[4], rng)),
        ("crop10", 2, cropped(bench[2], 0.10, rng)),
        ("region", 0, jpeg(region_crop(bench[0], rng)[0])),
    ]
    return [pic((name, t), im, features=CROP_FEATURES if name == "region" else 500) for name, t, im in copies]


def found(matches, queries, targets):
    return {(queries[m.query].key, targets[m.target].key, m.method) for m in matches}


def test_every_copy_is_found_by_the_method_that_fits_it(queries, targets):
    pics, _ = targets
    got = found(find_matches(queries, pics), queries, pics)
    assert got == {
        (("half", 1), 1, "phash"),
        (("jpeg60", 3), 3, "phash"),
        (("jitter", 4), 4, "phash"),
        (("crop10", 2), 2, "features"),
        (("region", 0), 0, "features"),
    }


def test_a_distance_of_zero_loses_the_near_duplicates(queries, targets):
    """Break on purpose: with max_distance 0 the re-encoded and recoloured copies are no longer
    near-duplicates (their hashes differ by a few bits); only a bit-identical hash would match."""
    pics, _ = targets
    near = [m for m in find_matches(queries, pics, regions=False) if m.method == "phash"]
    moved = {queries[m.query].key for m in near if m.distance > 0}
    assert moved  # the fixture has copies whose hash moved
    at_zero = {queries[m.query].key for m in find_matches(queries, pics, max_distance=0, regions=False)}
    assert not moved & at_zero


def test_region_matching_off_loses_the_crops(queries, targets):
    """Break on purpose: without region matching the cropped copy and the region crop are missed."""
    pics, _ = targets
    got = found(find_matches(queries, pics, regions=False), queries, pics)
    assert {q for q, _, _ in got} == {("half", 1), ("jpeg60", 3), ("jitter", 4)}


def test_region_matches_carry_where_the_query_lies(queries, targets):
    pics, bench = targets
    match = next(m for m in find_matches(queries, pics) if queries[m.query].key[0] == "region")
    h, w = bench[0].shape[:2]
    assert match.coverage == pytest.approx(512 * 512 / (w * h), rel=0.1)
    inner = match.to_target(type(match.box)(0, 0, 168, 168))  # the crop's top-left quarter
    assert inner is not None and inner.width == pytest.approx(256, rel=0.05)


def test_exact_bytes_and_same_set(targets):
    pics, _ = targets
    twin = Picture("twin", pics[1].fp, pics[1].load_gray, sha256="abc")
    first = Picture("first", pics[1].fp, pics[1].load_gray, sha256="abc")
    matches = find_matches([first, twin, pics[2]], [first, twin, pics[2]], same_set=True, regions=False)
    assert [(m.query, m.target, m.method) for m in matches] == [(0, 1, "exact")]
