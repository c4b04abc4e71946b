import pytest
from pydantic import ValidationError

from vzero_core.boxes import Box
from vzero_data.grounding import GroundingRejected, Region, SelectionPolicy, select_regions

W, H = 1000, 1000


def region(xyxy, score):
    return Region(Box(*xyxy), score, "cat", {"backend": "t"})


SMALL_A = region([100, 100, 150, 150], 0.9)  # 0.25% of the image
SMALL_B = region([300, 300, 340, 360], 0.6)
HUGE = region([0, 0, 900, 900], 0.95)  # 81%
SLIVER = region([10, 10, 12, 200], 0.99)  # 2 px wide


@pytest.mark.parametrize(
    "regions, policy, expected",
    [
        ([SMALL_B, SMALL_A], SelectionPolicy(), [[100, 100, 150, 150]]),
        ([SMALL_B, SMALL_A], SelectionPolicy(mode="all"), [[100, 100, 150, 150], [300, 300, 340, 360]]),
        ([SMALL_B, SMALL_A], SelectionPolicy(mode="all", min_score=0.7), [[100, 100, 150, 150]]),
        ([SMALL_B, SMALL_A], SelectionPolicy(mode="union"), [[100, 100, 340, 360]]),
        # the too-large best box is skipped, the next acceptable one is chosen
        ([HUGE, SMALL_A], SelectionPolicy(), [[100, 100, 150, 150]]),
        ([SLIVER, SMALL_B], SelectionPolicy(), [[300, 300, 340, 360]]),
        ([HUGE], SelectionPolicy(max_area_ratio=0.9), [[0, 0, 900, 900]]),
    ],
)
def test_selection(regions, policy, expected):
    assert [r.box.to_list() for r in select_regions(regions, W, H, policy)] == expected


@pytest.mark.parametrize(
    "regions, policy, reason, detail",
    [
        ([], SelectionPolicy(), "no_box", "found no box"),
        ([SMALL_B], SelectionPolicy(min_score=0.7), "no_box", "below min_score"),
        ([HUGE], SelectionPolicy(), "box_too_large", "covers 81.0%"),
        ([SLIVER], SelectionPolicy(), "box_too_small", "2.0x190.0 px"),
        ([SMALL_A], SelectionPolicy(min_area_ratio=0.01), "box_too_small", "min_area_ratio"),
        # the union of two far-apart small boxes is too large to be fine-grained
        (
            [SMALL_A, region([800, 800, 850, 850], 0.5)],
            SelectionPolicy(mode="union"),
            "box_too_large",
            "covers",
        ),
        # nothing acceptable: the reason is the best candidate's
        ([SLIVER, HUGE], SelectionPolicy(), "box_too_small", "min_side"),
    ],
)
def test_rejections_carry_reasons(regions, policy, reason, detail):
    with pytest.raises(GroundingRejected, match=detail) as info:
        select_regions(regions, W, H, policy)
    assert info.value.reason == reason


def test_union_records_how_many_regions_it_merged():
    (merged,) = select_regions([SMALL_A, SMALL_B], W, H, SelectionPolicy(mode="union"))
    assert merged.score == 0.9 and merged.provenance["merged_regions"] == 2


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "best"}, {"max_area_ratio": 0}, {"min_area_ratio": 0.5, "max_area_ratio": 0.2}, {"x": 1}],
)
def test_invalid_policies(kwargs):
    with pytest.raises(ValidationError):
        SelectionPolicy(**kwargs)


def test_unknown_rejection_reason_is_a_bug():
    with pytest.raises(ValueError, match="unknown rejection reason"):
        GroundingRejected("blurry", "x")
