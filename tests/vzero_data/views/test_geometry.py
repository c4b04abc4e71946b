import numpy as np
import pytest

from vzero_core.boxes import Box
from vzero_data.views import ViewRejected, sample_window


def brute_force_free(width, height, w, h, avoid):
    return {
        (x, y)
        for x in range(width - w + 1)
        for y in range(height - h + 1)
        if Box(x, y, x + w, y + h).intersection_area(avoid) == 0
    }


@pytest.mark.parametrize(
    "frame, win, avoid",
    [
        ((20, 15), (5, 4), Box(6, 5, 12, 9)),
        ((20, 15), (5, 4), Box(0.5, 0.5, 19.5, 3.2)),  # fractional edges
        ((12, 12), (4, 4), Box(4, 4, 8, 8)),
        ((10, 30), (10, 5), Box(2, 10, 3, 20)),  # full-width window: only y is free
    ],
)
def test_sample_window_draws_exactly_the_free_positions(frame, win, avoid):
    free = brute_force_free(*frame, *win, avoid)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(4000):
        box = sample_window(*frame, *win, rng, avoid)
        assert box.intersection_area(avoid) == 0
        assert (box.width, box.height) == win
        seen.add((int(box.x1), int(box.y1)))
    assert seen == free


def test_sample_window_reports_no_room_and_oversized_windows():
    rng = np.random.default_rng(0)
    with pytest.raises(ViewRejected) as no_room:
        sample_window(20, 20, 15, 15, rng, Box(8, 8, 12, 12))
    assert no_room.value.reason == "no_room_outside_target"
    with pytest.raises(ViewRejected) as too_big:
        sample_window(20, 20, 21, 5, rng)
    assert too_big.value.reason == "window_exceeds_image"
