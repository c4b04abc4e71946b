import numpy as np
import pytest

from vzero_core.boxes import Box
from vzero_data.views import (
    NEGATIVE_STRATEGIES,
    AvoidTargetParams,
    Candidate,
    CropPolicy,
    NegativeStrategy,
    UnknownStrategyError,
    ViewParamsError,
    ViewRejected,
    negative_view,
    positive_view,
    register_strategy,
    sample_window,
    validate_params,
)
from vzero_data.views.geometry import crop, window_size

from .conftest import noise_image

EXPECTED = {
    "downsampled_distractor",
    "distractor",
    "masked",
    "shuffled",
    "cross_image",
    "degraded",
    "random_positive",
    "downsampled_view",
}


def test_registry_holds_every_strategy_of_the_issue():
    assert set(NEGATIVE_STRATEGIES) == EXPECTED


def test_unknown_strategy_lists_the_known_names():
    image = noise_image(64, 64)
    pos = positive_view(image, Box(10, 10, 20, 20))
    with pytest.raises(
        UnknownStrategyError, match="unknown negative-view strategy 'blurry'; known: cross_image"
    ):
        negative_view("blurry", image, Box(10, 10, 20, 20), None, 0, positive=pos)


@pytest.mark.parametrize(
    "name, params, message",
    [
        (
            "shuffled",
            {"grid": 1},
            r"negative strategy 'shuffled': grid: .*greater than or equal to 2 \(got 1\)",
        ),
        ("masked", {"fill": "glitter"}, r"negative strategy 'masked': fill: .*'black'"),
        ("distractor", {"max_overlap": 2}, r"negative strategy 'distractor': max_overlap"),
        ("degraded", {"strenght": 0.3}, r"negative strategy 'degraded': strenght: Extra inputs"),
        ("downsampled_distractor", {"factor": "two"}, r"'downsampled_distractor': factor"),
        (
            "distractor",
            {"gap": 5, "max_overlap": 0.2},
            r"'distractor': .*gap=5 applies only with max_overlap=0",
        ),
    ],
)
def test_bad_params_name_strategy_and_field(name, params, message):
    with pytest.raises(ViewParamsError, match=message):
        validate_params(name, params)


def test_validate_params_fills_defaults():
    assert validate_params("shuffled", {"grid": 3}) == {"grid": 3, "max_attempts": 10, "min_side": 4}


def test_no_room_outside_the_target_is_a_rejection_with_a_reason():
    image = noise_image(64, 64)
    target = Box(16, 16, 48, 48)
    pos = positive_view(image, target, CropPolicy(min_side=1))
    for name in ("distractor", "downsampled_distractor"):
        with pytest.raises(ViewRejected) as exc:
            negative_view(name, image, target, None, 0, positive=pos)
        assert exc.value.reason in {"no_room_outside_target", "window_exceeds_image"}


def test_tiny_views_are_rejected_as_degenerate():
    image = noise_image(64, 64)
    pos = positive_view(image, Box(30, 30, 34, 34), CropPolicy(min_side=6))
    with pytest.raises(ViewRejected) as exc:
        negative_view("downsampled_view", image, Box(30, 30, 34, 34), {"min_side": 4}, 0, positive=pos)
    assert exc.value.reason == "degenerate_view"


def _sloppy_generate(image, target, params, rng, ctx):
    """A window anywhere, half the time on the target: exercises re-sampling."""
    height, width = image.shape[:2]
    w, h = window_size(ctx.positive.box)
    box = ctx.positive.box if rng.random() < 0.5 else sample_window(width, height, w, h, rng, target)
    return Candidate(crop(image, box), box)


def _always_on_target(image, target, params, rng, ctx):
    return Candidate(crop(image, ctx.positive.box), ctx.positive.box)


@pytest.fixture
def plugin_strategies():
    added = [
        register_strategy(NegativeStrategy("sloppy", AvoidTargetParams, _sloppy_generate, "test", True)),
        register_strategy(NegativeStrategy("stubborn", AvoidTargetParams, _always_on_target, "test", True)),
    ]
    yield added
    for s in added:
        del NEGATIVE_STRATEGIES[s.name]


def test_overlapping_candidates_are_resampled_then_rejected(plugin_strategies):
    image = noise_image(128, 128)
    target = Box(60, 60, 70, 70)
    pos = positive_view(image, target, CropPolicy(min_side=16))
    attempts = []
    for seed in range(20):
        view = negative_view("sloppy", image, target, {"max_attempts": 50}, seed, positive=pos)
        assert view.overlap_target == 0.0
        attempts.append(view.checks["attempts"])
    assert max(attempts) > 1, "some seeds needed a re-sample"
    with pytest.raises(ViewRejected, match=r"after 3 attempts") as exc:
        negative_view("stubborn", image, target, {"max_attempts": 3}, 0, positive=pos)
    assert exc.value.reason == "overlap_exceeds_threshold"
    # a threshold admits partly overlapping windows
    view = negative_view("stubborn", image, target, {"max_overlap": 1.0}, 0, positive=pos)
    assert view.overlap_target == 1.0


def test_registering_a_taken_name_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        register_strategy(NEGATIVE_STRATEGIES["masked"])


def test_cross_image_without_a_pool_is_a_rejection():
    image = noise_image(64, 64)
    pos = positive_view(image, Box(10, 10, 20, 20))
    with pytest.raises(ViewRejected) as exc:
        negative_view("cross_image", image, Box(10, 10, 20, 20), None, 0, positive=pos)
    assert exc.value.reason == "no_other_image"


def test_negatives_of_an_upscaled_positive_match_its_pixel_size():
    image = noise_image(256, 256)
    target = Box(100, 100, 110, 110)
    pos = positive_view(image, target, CropPolicy(min_side=20, upscale_min_pixels=60 * 60))
    assert (pos.width, pos.height) == (60, 60)
    for name in ("distractor", "downsampled_distractor", "masked", "random_positive", "shuffled", "degraded"):
        view = negative_view(name, image, target, None, 1, positive=pos)
        assert (view.width, view.height) == (60, 60), name
    assert negative_view("downsampled_view", image, target, None, 1, positive=pos).width == 30
    assert np.isfinite(pos.overlap_iou)


def test_a_positive_of_another_image_is_refused():
    big, small = noise_image(200, 200), noise_image(50, 50)
    pos = positive_view(big, Box(150, 150, 170, 170))
    with pytest.raises(ValueError, match="positive must be a crop of this 50x50 image"):
        negative_view("distractor", small, Box(10, 10, 20, 20), None, 0, positive=pos)


def test_pixel_std_check_is_the_mean_channel_std_of_the_view():
    image = noise_image(128, 128)
    target = Box(40, 40, 60, 60)
    pos = positive_view(image, target, CropPolicy(margin_ratio=0.5))
    view = negative_view("masked", image, target, None, 3, positive=pos)
    expected = round(float(np.asarray(view.pixels, np.float64).reshape(-1, 3).std(axis=0).mean()), 4)
    assert view.checks["pixel_std"] == pytest.approx(expected, abs=1e-4)
