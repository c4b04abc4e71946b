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
    from vzero_core.boxes import Box

    pos = positive_view(image, Box(60, 60, 140, 140), CropPolicy(min_side=1))
    view = negative_view(
        "degraded", image, Box(60, 60, 140, 140), {"mode": "pixelate", "strength": 0.1}, 0, positive=pos
    )
    assert view.checks["downscale"] == 0.125  # blocks of 8 pixels on an 80-pixel crop
    assert len(np.unique(view.pixels.reshape(-1, 3), axis=0)) <= 100  # 10x10 blocks of one colour each


def _scene_crop(h, w):
    from vzero_data.synth import make_scene

    image = np.asarray(make_scene(5, 0, 1024).image)
    return np.ascontiguousarray(image[100 : 100 + h, 200 : 200 + w])


@pytest.mark.parametrize(
    "h, w, sigma",
    [
        (256, 256, 38.4),  # the demo's crops: sigma 0.15 x side
        (300, 180, 27.0),
        (64, 90, 9.6),
        (400, 400, 60.0),
        (120, 500, 18.0),
    ],
)
def test_strong_blur_at_a_reduced_scale_matches_the_direct_blur(h, w, sigma):
    from vzero_data.views.negatives.degraded import _transform, blur

    crop = _scene_crop(h, w)
    direct = _transform("blur", sigma)(image=crop)["image"].astype(int)
    reduced = blur(crop, sigma).astype(int)
    assert reduced.shape == direct.shape
    diff = np.abs(reduced - direct)
    assert diff.mean() < 0.4 and diff.max() <= 4


@pytest.mark.parametrize("sigma", [1.0, 3.5, 8.0])
def test_a_blur_no_stronger_than_direct_sigma_is_the_direct_blur(sigma):
    from vzero_data.views.negatives.degraded import DIRECT_SIGMA, _transform, blur

    assert sigma <= DIRECT_SIGMA
    crop = _scene_crop(96, 80)
    assert np.array_equal(blur(crop, sigma), _transform("blur", sigma)(image=crop)["image"])
