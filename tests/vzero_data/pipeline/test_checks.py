from dataclasses import dataclass

import numpy as np
import pytest

from vzero_data.pipeline.checks import pixels_std, view_failure, view_key
from vzero_data.pipeline.recipe import ChecksConfig


@dataclass
class FakeView:
    kind: str
    strategy: str
    pixels: np.ndarray


def noise(h, w, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


FLAT = np.full((32, 32, 3), 7, np.uint8)
EARLIER = noise(32, 32, seed=0)
# Each channel uniform, the channels unlike: flat per channel, not flat as a whole (std sqrt(2)).
FLAT_CHANNELS = np.broadcast_to(np.array([0, 0, 3], np.uint8), (32, 32, 3)).copy()


def stripes(low, high):
    """Alternating rows of two grey levels: std (high - low) / 2 exactly."""
    out = np.full((32, 32, 3), low, np.uint8)
    out[::2] = high
    return out


@pytest.mark.parametrize(
    "pixels, cfg, expected",
    [
        (noise(32, 32), {}, None),
        (noise(4, 32), {}, "view_too_small"),
        (noise(4, 32), {"min_view_side": 4}, None),
        (FLAT, {}, "flat_view"),
        (FLAT, {"min_pixel_std": 0}, None),
        (FLAT_CHANNELS, {}, None),
        (FLAT_CHANNELS, {"min_pixel_std": 1.5}, "flat_view"),
        (stripes(10, 12), {}, None),  # std 1.0: not below min_pixel_std 1.0
        (stripes(10, 11), {}, "flat_view"),  # std 0.5
        (EARLIER.copy(), {}, "duplicate_view"),
        (EARLIER.copy(), {"reject_duplicate_views": False}, None),
    ],
)
def test_view_failure(pixels, cfg, expected):
    failure = view_failure(
        FakeView("negative", "masked", pixels),
        ChecksConfig(**cfg),
        {view_key(FakeView("negative", "masked", EARLIER))},
    )
    assert (failure[0] if failure else None) == expected
    if failure:
        assert "negative view 'masked'" in failure[1]


def key(pixels):
    return view_key(FakeView("negative", "masked", pixels))


def test_view_key_tells_shape_and_content_apart():
    a = noise(8, 8)
    assert key(a) == key(a.copy())
    assert key(a) != key(a[:, :4].copy())
    assert key(a) != key(a.reshape(4, 16, 3).copy())
    b = a.copy()
    b[0, 0, 0] ^= 1
    assert key(a) != key(b)


@pytest.mark.parametrize(
    "pixels",
    [FLAT, FLAT_CHANNELS, stripes(10, 12), noise(32, 32), noise(7, 3), noise(300, 200, seed=5)[::2, ::3]],
)
def test_pixels_std_is_the_std_of_all_values(pixels):
    expected = float(np.asarray(pixels, dtype=np.float64).std())
    assert pixels_std(FakeView("negative", "masked", pixels)) == pytest.approx(expected, abs=1e-9)
