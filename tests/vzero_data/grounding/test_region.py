import math

import pytest

from vzero_core.boxes import Box
from vzero_data.grounding.region import Region, regions_from_xyxy

PROV = {"backend": "test"}


@pytest.mark.parametrize(
    "xyxy, expected",
    [
        ([10, 20, 30, 40], [10, 20, 30, 40]),
        ([30, 40, 10, 20], [10, 20, 30, 40]),  # inverted corners are reordered
        ([-5, -5, 50, 50], [0, 0, 50, 50]),  # clipped to the image
        ([90, 50, 200, 300], [90, 50, 100, 80]),
    ],
)
def test_boxes_are_ordered_and_clipped_to_the_image(xyxy, expected):
    (region,) = regions_from_xyxy([xyxy], [0.5], "cat", 100, 80, PROV)
    assert region.box == Box(*expected)
    assert region.phrase == "cat" and region.provenance is PROV


@pytest.mark.parametrize(
    "xyxy",
    [[200, 10, 300, 20], [10, 10, 10, 20], [math.nan, 0, 5, 5], [0, 0, math.inf, 5]],
)
def test_degenerate_or_outside_boxes_are_not_regions(xyxy):
    assert regions_from_xyxy([xyxy], [0.9], "cat", 100, 80, PROV) == []


def test_sorted_best_first_and_capped():
    boxes = [[0, 0, 10, 10], [5, 5, 20, 20], [1, 1, 3, 3]]
    regions = regions_from_xyxy(boxes, [0.2, 0.9, 0.5], "cat", 100, 80, PROV, max_regions=2)
    assert [r.score for r in regions] == [0.9, 0.5]


def test_region_to_dict():
    region = Region(Box(1, 2, 3, 4), 0.5, "cat", {"backend": "x"})
    assert region.to_dict() == {
        "box": [1, 2, 3, 4],
        "score": 0.5,
        "phrase": "cat",
        "provenance": {"backend": "x"},
    }
