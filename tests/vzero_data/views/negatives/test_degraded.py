import cv2
import numpy as np
import pytest

from vzero_data.views import CropPolicy, negative_view, positive_view


def detail_correlation(a, b):
    """Correlation of the fine detail (image minus its blur) of two images: 1 for the same structure."""

    def detail(x):
        grey = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return (grey - cv2.GaussianBlur(grey, (0, 0), 1.5)).ravel()

    da, db = detail(a), detail(b)
    return float(np.dot(da, db) / (np.linalg.norm(da) * np.linalg.norm(db) + 1e-9))


@pytest.mark.parametrize(
    "params",
    [
        {"mode": "blur"},
        {"mode": "pixelate"},
        {"mode": "blur", "strength": 0.3},
        {"mode": "pixelate", "strength": 0.3},
    ],
)
@pytest.mark.parametrize("index", range(4))
def test_degraded_keeps_the_colours_but_destroys_the_structure(scenes, index, params):
    image, target, _ = scenes[index]
    pos = positive_view(image, target, CropPolicy(margin_ratio=1.0, min_side=48))
    view = negative_view("degraded", image, target, params, 0, positive=pos)
    assert view.pixels.shape == pos.pixels.shape
    assert np.abs(view.pixels.reshape(-1, 3).mean(0) - pos.pixels.reshape(-1, 3).mean(0)).max() < 6
    assert detail_correlation(pos.pixels, pos.pixels) > 0.99
    assert detail_correlation(view.pixels, pos.pixels) < 0.35
    assert view.box == pos.box


def test_pixelation_leaves_blocks():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(200, 200, 3), dtype=np.uint8)
    from vzero_data.boxes import Box

    pos = positive_view(image, Box(60, 60, 140, 140), CropPolicy(min_side=1))
    view = negative_view(
        "degraded", image, Box(60, 60, 140, 140), {"mode": "pixelate", "strength": 0.1}, 0, positive=pos
    )
    assert view.checks["downscale"] == 0.125  # blocks of 8 pixels on an 80-pixel crop
    assert len(np.unique(view.pixels.reshape(-1, 3), axis=0)) <= 100  # 10x10 blocks of one colour each
