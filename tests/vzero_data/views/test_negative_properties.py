"""Property tests over random images and boxes: overlap limits, containment, determinism."""

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from vzero_core.boxes import Box
from vzero_data.views import (
    NEGATIVE_STRATEGIES,
    CropPolicy,
    InMemoryImagePool,
    ViewRejected,
    negative_view,
    positive_view,
)

from .conftest import noise_image

GEOMETRY_REJECTIONS = {"no_room_outside_target", "window_exceeds_image", "degenerate_view"}
AVOIDING = ("distractor", "downsampled_distractor", "cross_image")
POOL = InMemoryImagePool({f"other{i}": noise_image(96, 80, seed=100 + i) for i in range(3)})


@st.composite
def image_and_target(draw, max_target_fraction=0.25):
    width, height = draw(st.integers(32, 160)), draw(st.integers(32, 160))
    tw = draw(st.integers(1, max(1, int(width * max_target_fraction))))
    th = draw(st.integers(1, max(1, int(height * max_target_fraction))))
    x1 = draw(st.floats(0, width - tw, allow_nan=False))
    y1 = draw(st.floats(0, height - th, allow_nan=False))
    seed = draw(st.integers(0, 2**32))
    return noise_image(width, height, seed % 1000), Box(x1, y1, x1 + tw, y1 + th), seed


policies = st.builds(
    CropPolicy,
    margin_ratio=st.floats(0, 1),
    margin_px=st.integers(0, 6),
    min_side=st.integers(1, 12),
    square=st.booleans(),
    max_aspect=st.floats(1, 6),
)

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


@SETTINGS
@given(image_and_target(max_target_fraction=1.0), policies)
def test_positive_contains_the_target(case, policy):
    image, target, seed = case
    view = positive_view(image, target, policy, seed)
    assert view.box.contains(target)
    assert view.overlap_target == 1.0
    x1, y1, x2, y2 = (int(v) for v in view.box.to_list())
    assert 0 <= x1 < x2 <= image.shape[1] and 0 <= y1 < y2 <= image.shape[0]


def any_free_window(image, window, target):
    """Brute force: does any whole-pixel position of ``window``'s size avoid ``target``?"""
    height, width = image.shape[:2]
    w, h = int(window.width), int(window.height)
    xs, ys = np.arange(width - w + 1), np.arange(height - h + 1)
    x_free = (xs + w <= target.x1) | (xs >= target.x2)
    y_free = (ys + h <= target.y1) | (ys >= target.y2)
    return bool(x_free.any() or y_free.any()) and len(xs) > 0 and len(ys) > 0


@SETTINGS
@given(
    image_and_target(max_target_fraction=0.6),
    st.sampled_from(AVOIDING),
    st.sampled_from([0.0, 0.0, 0.2, 0.5]),
)
def test_avoiding_negatives_never_exceed_the_overlap_threshold(case, name, max_overlap):
    image, target, seed = case
    pos = positive_view(image, target, CropPolicy(min_side=8), seed)
    params = {"max_overlap": max_overlap} if name != "cross_image" else {}
    try:
        view = negative_view(name, image, target, params, seed, positive=pos, pool=POOL)
    except ViewRejected as exc:
        event(f"{name}: rejected ({exc.reason})")
        assert exc.reason in GEOMETRY_REJECTIONS | {"overlap_exceeds_threshold"}
        if name == "distractor" and max_overlap == 0:
            assert not any_free_window(image, pos.box, target), "rejected although a free window exists"
        return
    event(f"{name}: accepted")
    limit = max_overlap if name != "cross_image" else 0.0
    assert view.overlap_target <= limit
    if view.box is not None:
        assert view.box.intersection_over(view.box) == 1.0
        assert target.intersection_over(view.box) == view.overlap_target
        if max_overlap == 0:
            assert view.box.intersection_area(target) == 0
    if name == "distractor":
        x1, y1, x2, y2 = (int(v) for v in view.box.to_list())
        assert np.array_equal(view.pixels, image[y1:y2, x1:x2])


@settings(max_examples=25, deadline=None, derandomize=True)
@given(image_and_target(), st.sampled_from(sorted(NEGATIVE_STRATEGIES)))
def test_same_inputs_give_byte_identical_views(case, name):
    image, target, seed = case
    pos = positive_view(image, target, CropPolicy(min_side=12, margin_ratio=0.5), seed)
    pos_again = positive_view(image.copy(), target, CropPolicy(min_side=12, margin_ratio=0.5), seed)
    assert pos.to_png_bytes() == pos_again.to_png_bytes()
    outcomes = []
    for positive in (pos, pos_again):
        try:
            outcomes.append(
                negative_view(name, image.copy(), target, None, seed, positive=positive, pool=POOL)
            )
        except ViewRejected as exc:
            outcomes.append(exc.reason)
    a, b = outcomes
    if isinstance(a, str):
        assert a == b
        return
    assert a.to_row("s") == b.to_row("s")
    assert a.to_png_bytes() == b.to_png_bytes()
