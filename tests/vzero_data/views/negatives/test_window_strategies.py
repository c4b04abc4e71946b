"""distractor, random_positive, downsampled_view and cross_image geometry."""

import cv2
import numpy as np

from vzero_core.boxes import Box
from vzero_data.views import CropPolicy, InMemoryImagePool, negative_view, positive_view

from ..conftest import noise_image


def test_random_positive_is_uniform_and_may_overlap():
    image = noise_image(64, 64)
    target = Box(16, 16, 48, 48)
    pos = positive_view(image, target, CropPolicy(min_side=1))
    overlaps = [
        negative_view("random_positive", image, target, None, s, positive=pos).overlap_target
        for s in range(20)
    ]
    assert max(overlaps) > 0 and all(0 <= o <= 1 for o in overlaps)


def test_distractor_gap_keeps_its_distance():
    image = noise_image(128, 128)
    target = Box(60, 60, 68, 68)
    pos = positive_view(image, target, CropPolicy(min_side=16))
    for seed in range(20):
        view = negative_view("distractor", image, target, {"gap": 10}, seed, positive=pos)
        assert view.box.intersection_area(target.expand(pixels=10)) == 0


def test_downsampled_view_is_the_positive_at_half_size():
    image = noise_image(128, 128)
    target = Box(40, 40, 80, 70)
    pos = positive_view(image, target, CropPolicy(min_side=1))
    view = negative_view("downsampled_view", image, target, None, 0, positive=pos)
    assert np.array_equal(view.pixels, cv2.resize(pos.pixels, (20, 15), interpolation=cv2.INTER_CUBIC))
    assert view.box == pos.box and view.overlap_target == 1.0


def test_cross_image_same_position_and_small_pool_images():
    image = noise_image(100, 100)
    target = Box(80, 80, 96, 96)
    pos = positive_view(image, target, CropPolicy(min_side=20))
    big, tiny = noise_image(90, 90, seed=1), noise_image(10, 10, seed=2)
    pool = InMemoryImagePool({"big": big, "tiny": tiny})
    view = negative_view(
        "cross_image", image, target, {"position": "same", "max_attempts": 30}, 0, positive=pos, pool=pool
    )
    assert view.source_image_sha256 == "big"
    assert view.checks["source_box"] == [70.0, 70.0, 90.0, 90.0]  # the positive's window, shifted to fit
    assert np.array_equal(view.pixels, big[70:90, 70:90])


def test_cross_image_skips_a_pool_copy_of_this_image():
    image = noise_image(64, 64)
    target = Box(10, 10, 20, 20)
    pos = positive_view(image, target, CropPolicy(min_side=16))
    pool = InMemoryImagePool({"renamed-copy": image.copy(), "other": noise_image(64, 64, seed=9)})
    for seed in range(10):
        view = negative_view(
            "cross_image", image, target, None, seed, positive=pos, pool=pool, image_sha256="own"
        )
        assert view.source_image_sha256 == "other"
