import pytest
from pydantic import ValidationError

from vzero_core.boxes import Box
from vzero_data.views import CropPolicy, crop_box
from vzero_data.views.crop_policy import shift_into, upscaled_size

W, H = 200, 100


@pytest.mark.parametrize(
    "target, policy, expected",
    [
        # min_side grows a small box about its centre
        (Box(90, 40, 100, 50), CropPolicy(min_side=20), Box(85, 35, 105, 55)),
        # ratio margin: 10x10 * 1.6 = 16, still below min_side=1 -> 16x16
        (Box(90, 40, 100, 50), CropPolicy(min_side=1, margin_ratio=0.6), Box(87, 37, 103, 53)),
        # pixel margin on every side
        (Box(90, 40, 100, 50), CropPolicy(min_side=1, margin_px=5), Box(85, 35, 105, 55)),
        # square: the short side grows to the long one
        (Box(80, 40, 120, 50), CropPolicy(min_side=1, square=True), Box(80, 25, 120, 65)),
        # max aspect 2: a 40x10 box becomes 40x20
        (Box(80, 40, 120, 50), CropPolicy(min_side=1, max_aspect=2), Box(80, 35, 120, 55)),
        # near the left edge: shifted inside, size kept
        (Box(0, 40, 10, 50), CropPolicy(min_side=30), Box(0, 30, 30, 60)),
        # near the bottom-right corner
        (Box(195, 95, 200, 100), CropPolicy(min_side=30), Box(170, 70, 200, 100)),
        # larger than the image: clipped to it
        (Box(10, 10, 190, 90), CropPolicy(min_side=1, margin_ratio=1.0), Box(0, 0, 200, 100)),
        # fractional target: rounded out to whole pixels
        (Box(90.5, 40.2, 99.5, 49.7), CropPolicy(min_side=1), Box(90, 40, 100, 50)),
    ],
)
def test_crop_box(target, policy, expected):
    box = crop_box(target, W, H, policy)
    assert box == expected
    assert box.contains(target)


@pytest.mark.parametrize(
    "box, expected",
    [
        (Box(-5, -5, 10, 10), Box(0, 0, 15, 15)),
        (Box(195, 90, 215, 110), Box(180, 80, 200, 100)),
        (Box(-10, 10, 250, 20), Box(0, 10, 200, 20)),
    ],
)
def test_shift_into(box, expected):
    assert shift_into(box, W, H) == expected


@pytest.mark.parametrize(
    "size, policy, expected",
    [
        ((32, 32), CropPolicy(), (32, 32)),
        ((32, 32), CropPolicy(upscale_min_pixels=64 * 64), (64, 64)),
        ((32, 16), CropPolicy(upscale_min_pixels=64 * 32), (64, 32)),
        ((10, 10), CropPolicy(upscale_min_pixels=10_000, max_upscale=4), (40, 40)),
        ((100, 100), CropPolicy(upscale_min_pixels=50 * 50), (100, 100)),
    ],
)
def test_upscaled_size(size, policy, expected):
    assert upscaled_size(*size, policy) == expected


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"margin_ratio": -0.1}, "margin_ratio"),
        ({"min_side": 0}, "min_side"),
        ({"max_aspect": 0.5}, "max_aspect"),
        ({"upscale_min_pixels": 0}, "upscale_min_pixels"),
        ({"margin": 3}, "margin"),
    ],
)
def test_bad_policy_names_the_field(kwargs, field):
    with pytest.raises(ValidationError, match=rf"for CropPolicy\n{field}\n"):
        CropPolicy(**kwargs)
