import cv2
import numpy as np
import pytest

from vzero_core.boxes import Box
from vzero_data.views import CropPolicy, negative_view, positive_view

from ..conftest import noise_image


@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize("size", [(257, 199), (256, 256)])
def test_window_equals_a_crop_of_the_downsampled_image(factor, size):
    image = noise_image(*size, seed=factor)
    target = Box(30, 40, 50, 60)
    pos = positive_view(image, target, CropPolicy(min_side=16))
    small = cv2.resize(
        image[: size[1] // factor * factor, : size[0] // factor * factor],
        (size[0] // factor, size[1] // factor),
        interpolation=cv2.INTER_AREA,
    )
    for seed in range(5):
        view = negative_view("downsampled_distractor", image, target, {"factor": factor}, seed, positive=pos)
        x1, y1, x2, y2 = (int(v) for v in view.checks["downsampled_window"])
        assert np.array_equal(view.pixels, small[y1:y2, x1:x2])
        assert view.box == Box(x1, y1, x2, y2).scale(factor)
        assert view.box.intersection_area(target) == 0
        assert (view.width, view.height) == (pos.width, pos.height)


def test_bicubic_interpolation_with_a_gap():
    image = noise_image(300, 300)
    target = Box(140, 140, 160, 160)
    pos = positive_view(image, target, CropPolicy(min_side=24))
    view = negative_view(
        "downsampled_distractor", image, target, {"interpolation": "bicubic", "gap": 4}, 3, positive=pos
    )
    assert view.box.intersection_area(target.expand(pixels=4)) == 0
    assert view.params["interpolation"] == "bicubic"


@pytest.mark.parametrize("interpolation", ["area", "bilinear", "bicubic"])
@pytest.mark.parametrize("factor", [2, 3])
@pytest.mark.parametrize("target", [Box(20, 20, 28, 28), Box(21, 19, 29, 27)])
def test_no_negative_pixel_is_computed_from_a_target_pixel(interpolation, factor, target):
    """On a flat image, any trace of the (white) target in a negative is a leak through the
    resampling kernel, even when the source window itself does not overlap the target."""
    image = np.full((72, 72, 3), 100, dtype=np.uint8)
    x1, y1, x2, y2 = target.round_out()
    image[y1:y2, x1:x2] = 255
    pos = positive_view(image, target, CropPolicy(min_side=8))
    params = {"interpolation": interpolation, "factor": factor}
    for seed in range(60):
        view = negative_view("downsampled_distractor", image, target, params, seed, positive=pos)
        assert view.overlap_target == 0.0
        assert (view.pixels == 100).all(), f"seed {seed}: target pixels leaked into {view.box}"
