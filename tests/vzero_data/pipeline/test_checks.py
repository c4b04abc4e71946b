from dataclasses import dataclass

import numpy as np
import pytest

from vzero_data.pipeline.checks import first_failure
from vzero_data.pipeline.recipe import ChecksConfig


@dataclass
class FakeView:
    kind: str
    strategy: str
    pixels: np.ndarray
    overlap_target: float = 0.0


def noise(h, w, seed):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


POS = FakeView("positive", "crop", noise(32, 32, 0), 1.0)


@pytest.mark.parametrize(
    "views, cfg, expected",
    [
        ([POS, FakeView("negative", "a", noise(32, 32, 1))], {}, None),
        ([POS, FakeView("negative", "a", noise(4, 32, 1))], {}, "view_too_small"),
        ([POS, FakeView("negative", "a", noise(4, 32, 1))], {"min_view_side": 4}, None),
        ([POS, FakeView("negative", "a", noise(32, 32, 1), 0.3)], {}, "negative_shows_target"),
        ([POS, FakeView("negative", "a", noise(32, 32, 1), 0.3)], {"max_target_overlap": 0.5}, None),
        ([POS, FakeView("negative", "a", np.full((32, 32, 3), 7, np.uint8))], {}, "flat_view"),
        ([POS, FakeView("negative", "a", np.full((32, 32, 3), 7, np.uint8))], {"min_pixel_std": 0}, None),
        ([POS, FakeView("negative", "a", POS.pixels.copy())], {}, "duplicate_view"),
        ([POS, FakeView("negative", "a", POS.pixels.copy())], {"reject_duplicate_views": False}, None),
    ],
)
def test_first_failure(views, cfg, expected):
    failure = first_failure(views, ChecksConfig(**cfg))
    assert (failure[0] if failure else None) == expected
    if failure:
        assert "view 1 (negative a)" in failure[1]
