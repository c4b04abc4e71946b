import numpy as np
import pytest

from tests.near_duplicates import jpeg, region_crop
from vzero_data.fingerprints.compute import (
    BENCHMARK_FEATURES,
    BENCHMARK_MAX_SIDE,
    CROP_FEATURES,
    fingerprint,
    grey,
)
from vzero_data.fingerprints.regions import pixel_agreement, place, projected_box


@pytest.fixture(scope="module")
def target(big_photo):
    return fingerprint(big_photo, features=BENCHMARK_FEATURES, max_side=BENCHMARK_MAX_SIDE), grey(big_photo)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_region_crop_is_placed_where_it_was_cut(big_photo, target, seed):
    """The issue's case: a 512x512 window of a 2246x1582 photo, resized to 336 px, JPEG 60."""
    crop, box = region_crop(big_photo, np.random.default_rng(seed))
    crop = jpeg(crop)
    placed = place(fingerprint(crop, features=CROP_FEATURES), grey(crop), *target)
    assert placed is not None
    assert placed.box.iou(type(placed.box).from_xyxy(box)) > 0.9
    assert placed.scale == pytest.approx(512 / 336, rel=0.05) and placed.ncc > 0.9


def test_a_crop_of_another_photo_is_not_placed(photos, target):
    crop, _ = region_crop(photos[0], np.random.default_rng(0), window=256)
    assert place(fingerprint(crop, features=CROP_FEATURES), grey(crop), *target) is None


def test_pixel_agreement_is_high_only_under_the_true_transform(big_photo):
    gray = grey(big_photo)
    window = gray[400:912, 600:1112]
    true = np.array([[1.0, 0, 600], [0, 1.0, 400]])
    shifted = np.array([[1.0, 0, 700], [0, 1.0, 480]])
    assert pixel_agreement(window, gray, true) > 0.98
    assert pixel_agreement(window, gray, shifted) < 0.5


def test_projected_box_of_a_scaled_and_shifted_picture():
    box = projected_box(np.array([[2.0, 0, 10], [0, 2.0, 20]]), 100, 50)
    assert box.to_list() == [10, 20, 210, 120]


def test_an_object_two_unrelated_pictures_share_is_not_a_match(photos):
    """The same object (a patch of shapes) pasted into two different photos: its keypoints agree on
    a transform, but the pixels around it do not, so a crop of one is not placed in the other."""
    from vzero_data.fingerprints.regions import propose

    obj = photos[2][300:500, 400:600]
    a, b = photos[0].copy(), photos[1].copy()
    a[200:400, 300:500] = obj
    b[450:650, 650:850] = obj
    crop = a[120:480, 220:580]  # the object with a's own surroundings
    query = fingerprint(crop, features=CROP_FEATURES)
    target = fingerprint(b, features=BENCHMARK_FEATURES, max_side=BENCHMARK_MAX_SIDE)
    assert propose(query, target)  # the shared object proposes a placement ...
    assert place(query, grey(crop), target, grey(b)) is None  # ... the pixels refuse it
