import math

import pytest

from vzero_core.boxes import Box, BoxError, union_box


@pytest.mark.parametrize(
    "xyxy, message",
    [
        ((10, 10, 10, 20), "x1 must be < x2"),
        ((10, 10, 5, 20), "x1 must be < x2"),
        ((0, 5, 10, 5), "y1 must be < y2"),
        ((0, 9, 10, 5), "y1 must be < y2"),
        ((math.nan, 0, 10, 10), "x1 is not finite"),
        ((0, 0, math.inf, 10), "x2 is not finite"),
        ((0, 0, 10, -math.inf), "y2 is not finite"),
        (("0", 0, 10, 10), "x1 must be a number"),
        ((True, 0, 10, 10), "x1 must be a number"),
    ],
)
def test_invalid_boxes_are_rejected_with_a_clear_message(xyxy, message):
    with pytest.raises(BoxError, match=message):
        Box(*xyxy)


@pytest.mark.parametrize("value", [[1, 2, 3], [1, 2, 3, 4, 5], "abcd"])
def test_from_xyxy_needs_four_numbers(value):
    with pytest.raises(BoxError, match="expected 4 numbers"):
        Box.from_xyxy(value)


@pytest.mark.parametrize(
    "box, width, height, area, center",
    [
        (Box(0, 0, 10, 20), 10, 20, 200, (5, 10)),
        (Box(2.5, 1, 3.5, 2), 1, 1, 1, (3, 1.5)),
        (Box(-5, -5, 5, 5), 10, 10, 100, (0, 0)),
    ],
)
def test_geometry(box, width, height, area, center):
    assert (box.width, box.height, box.area, box.center) == (width, height, area, center)


@pytest.mark.parametrize(
    "box, size, expected",
    [
        (Box(10, 10, 20, 20), (100, 100), Box(10, 10, 20, 20)),
        (Box(-10, -5, 20, 20), (100, 100), Box(0, 0, 20, 20)),
        (Box(90, 90, 120, 130), (100, 110), Box(90, 90, 100, 110)),
        (Box(-1, -1, 200, 200), (50, 40), Box(0, 0, 50, 40)),
    ],
)
def test_clip(box, size, expected):
    assert box.clip(*size) == expected


@pytest.mark.parametrize("box", [Box(100, 0, 120, 10), Box(-20, -20, 0, 0), Box(10, 60, 20, 70)])
def test_clip_of_box_outside_image_raises(box):
    with pytest.raises(BoxError, match="outside the 100x50 image"):
        box.clip(100, 50)


@pytest.mark.parametrize(
    "box, ratio, pixels, expected",
    [
        (Box(10, 10, 20, 20), 0.0, 0.0, Box(10, 10, 20, 20)),
        (Box(10, 10, 20, 20), 1.0, 0.0, Box(5, 5, 25, 25)),
        (Box(10, 10, 20, 30), 0.5, 0.0, Box(7.5, 5, 22.5, 35)),
        (Box(10, 10, 20, 20), 0.0, 3.0, Box(7, 7, 23, 23)),
        (Box(10, 10, 20, 20), 1.0, 2.0, Box(3, 3, 27, 27)),
        (Box(10, 10, 20, 20), -0.5, 0.0, Box(12.5, 12.5, 17.5, 17.5)),
    ],
)
def test_expand(box, ratio, pixels, expected):
    assert box.expand(ratio=ratio, pixels=pixels) == expected


def test_expand_to_nothing_raises():
    with pytest.raises(BoxError, match="empty box"):
        Box(0, 0, 10, 10).expand(pixels=-5)


@pytest.mark.parametrize(
    "box, size, expected",
    [
        (Box(0, 0, 10, 10), (100, 100), 0.01),
        (Box(0, 0, 100, 50), (100, 100), 0.5),
        (Box(-50, -50, 50, 50), (100, 100), 0.25),  # clipped first
    ],
)
def test_area_ratio(box, size, expected):
    assert box.area_ratio(*size) == pytest.approx(expected)


@pytest.mark.parametrize(
    "a, b, iou, a_in_b, b_in_a",
    [
        (Box(0, 0, 10, 10), Box(0, 0, 10, 10), 1.0, 1.0, 1.0),
        (Box(0, 0, 10, 10), Box(10, 0, 20, 10), 0.0, 0.0, 0.0),  # touching edges share no area
        (Box(0, 0, 10, 10), Box(5, 0, 15, 10), 50 / 150, 0.5, 0.5),
        (Box(0, 0, 10, 10), Box(0, 0, 20, 20), 100 / 400, 1.0, 0.25),
        (Box(2, 2, 4, 4), Box(0, 0, 10, 10), 4 / 100, 1.0, 0.04),
        (Box(0, 0, 10, 10), Box(50, 50, 60, 60), 0.0, 0.0, 0.0),
    ],
)
def test_iou_and_intersection_over_box(a, b, iou, a_in_b, b_in_a):
    assert a.iou(b) == pytest.approx(iou)
    assert b.iou(a) == pytest.approx(iou)
    assert a.intersection_over(b) == pytest.approx(a_in_b)
    assert b.intersection_over(a) == pytest.approx(b_in_a)


@pytest.mark.parametrize(
    "box, expected",
    [(Box(0.2, 1.5, 9.1, 10.0), (0, 1, 10, 10)), (Box(3, 4, 5, 6), (3, 4, 5, 6))],
)
def test_round_out_covers_the_box(box, expected):
    assert box.round_out() == expected


def test_contains_translate_scale_union():
    outer = Box(0, 0, 100, 100)
    assert outer.contains(Box(10, 10, 100, 100))
    assert not outer.contains(Box(10, 10, 101, 50))
    assert Box(1, 2, 3, 4).translate(10, 20) == Box(11, 22, 13, 24)
    assert Box(10, 20, 30, 40).scale(0.5) == Box(5, 10, 15, 20)
    assert Box(10, 20, 30, 40).scale(2, 0.5) == Box(20, 10, 60, 20)
    assert union_box([Box(0, 5, 1, 6), Box(3, 1, 4, 2)]) == Box(0, 1, 4, 6)
    with pytest.raises(BoxError):
        union_box([])
