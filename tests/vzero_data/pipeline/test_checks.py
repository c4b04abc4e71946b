from dataclasses import dataclass

import numpy as np
import pytest

from vzero_data.pipeline.checks import view_failure, view_key
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


@pytest.mark.parametrize(
    "pixels, cfg, expected",
    [
        (noise(32, 32), {}, None),
        (noise(4, 32), {}, "view_too_small"),
        (noise(4, 32), {"min_view_side": 4}, None),
        (FLAT, {}, "flat_view"),
        (FLAT, {"min_pixel_std": 0}, None),
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
