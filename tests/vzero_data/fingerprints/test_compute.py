import imagehash
import numpy as np
import pytest
from PIL import Image

from vzero_data.fingerprints import fingerprint_from_row, fingerprint_row
from vzero_data.fingerprints.compute import (
    PHASH_THUMBNAIL,
    fingerprint,
    grey,
    hamming,
    phash64,
    shrink,
)


def test_the_phash_is_imagehash_phash_of_the_grey_thumbnail(photos):
    gray = grey(photos[0])
    small, _ = shrink(gray, PHASH_THUMBNAIL)
    assert phash64(gray) == int(str(imagehash.phash(Image.fromarray(small))), 16)


@pytest.mark.parametrize(
    "a, b, bits",
    [(0, 0, 0), (0b1011, 0, 3), (1 << 63, 0, 1), ((1 << 64) - 1, 0, 64)],
)
def test_hamming(a, b, bits):
    assert hamming(a, b) == bits


def test_features_are_in_the_pictures_own_pixels(big_photo):
    fp = fingerprint(big_photo, features=256)
    h, w = big_photo.shape[:2]
    assert (fp.width, fp.height) == (w, h) and len(fp.keypoints) == 256 == len(fp.descriptors)
    x, y = fp.keypoints[:, 0], fp.keypoints[:, 1]
    assert x.min() >= 0 and y.min() >= 0 and x.max() < w and y.max() < h
    assert x.max() > 0.9 * w and y.max() > 0.9 * h  # found on a shrunk copy, scaled back


def test_weak_corners_keep_their_share_of_keypoints():
    """Strong corners on the left, faint ones on the right: the strongest 200 overall would all be on
    the left; taken round-robin over the grid, the right half keeps its cells' share."""
    rng = np.random.default_rng(0)
    image = np.full((512, 512), 128, np.uint8)
    for x, y in rng.integers(8, 500, size=(400, 2)):
        contrast = 120 if x < 256 else 25
        image[y : y + 6, x : x + 6] = 128 + contrast * (1 if rng.random() < 0.5 else -1)
    fp = fingerprint(image, features=200)
    right = (fp.keypoints[:, 0] >= 256).mean()
    assert 0.35 <= right <= 0.65, right


def test_a_flat_picture_has_a_hash_and_no_features():
    fp = fingerprint(np.full((64, 80, 3), 128, np.uint8))
    assert fp.keypoints.shape == (0, 2) and fp.descriptors.shape == (0, 32)


def test_the_store_row_round_trips(photos):
    fp = fingerprint(photos[1], features=50)
    row = fingerprint_row(fp, "view", "v1", image_sha256="abc", sample_id="s1", box=[1, 2, 3, 4])
    back = fingerprint_from_row(row)
    assert back.phash == fp.phash and (back.width, back.height) == (fp.width, fp.height)
    assert np.array_equal(back.keypoints, fp.keypoints) and np.array_equal(back.descriptors, fp.descriptors)
    assert row["box"] == [1.0, 2.0, 3.0, 4.0] and row["subject"] == "view"
