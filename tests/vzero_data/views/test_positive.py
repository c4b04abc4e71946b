import numpy as np
import pytest

from vzero_core.boxes import Box
from vzero_data.views import CropPolicy, ViewRejected, positive_view

from .conftest import noise_image


def test_positive_is_the_crop_window_of_the_image():
    image = noise_image(120, 90)
    view = positive_view(image, Box(50, 40, 60, 52), CropPolicy(min_side=24), seed=3)
    x1, y1, x2, y2 = (int(v) for v in view.box.to_list())
    assert view.kind == "positive" and view.strategy == "crop" and view.seed == 3
    assert np.array_equal(view.pixels, image[y1:y2, x1:x2])
    assert view.box.contains(Box(50, 40, 60, 52)) and view.overlap_target == 1.0
    assert view.params["min_side"] == 24 and view.params["margin_ratio"] == 0.0  # defaults filled in
    assert view.checks["contains_target"] is True


def test_small_crops_are_upscaled_but_keep_their_original_box():
    image = noise_image(300, 300)
    view = positive_view(image, Box(100, 100, 110, 110), CropPolicy(min_side=16, upscale_min_pixels=64 * 64))
    assert view.box == Box(97, 97, 113, 113)
    assert (view.width, view.height) == (64, 64)
    assert view.checks["upscale_factor"] == 4.0


def test_target_partly_outside_is_clipped_and_wholly_outside_is_rejected():
    image = noise_image(100, 100)
    view = positive_view(image, Box(-20, 90, 10, 130))
    assert view.checks["target_box"] == [0.0, 90.0, 10.0, 100.0]
    with pytest.raises(ViewRejected) as exc:
        positive_view(image, Box(150, 150, 160, 160))
    assert exc.value.reason == "target_outside_image"


def test_view_pixels_are_an_owned_read_only_copy():
    image = noise_image(100, 100)
    view = positive_view(image, Box(10, 10, 50, 50))
    image[:] = 0
    assert view.pixels.any()
    with pytest.raises(ValueError):
        view.pixels[0, 0, 0] = 1
