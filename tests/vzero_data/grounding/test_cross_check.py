import pytest

from vzero_core.boxes import Box
from vzero_data.grounding import GroundingRejected, Region, cross_check


def region(xyxy, backend="a"):
    return Region(Box(*xyxy), 0.5, "cat", {"backend": backend, "model": f"{backend}-model"})


def test_keeps_only_boxes_the_reference_agrees_with():
    primary = [region([0, 0, 10, 10]), region([50, 50, 60, 60])]
    reference = [region([1, 0, 10, 10], "b")]
    (kept,) = cross_check(primary, reference, min_iou=0.5)
    assert kept.box == Box(0, 0, 10, 10)
    assert kept.provenance["cross_check"] == {"backend": "b", "model": "b-model", "iou": 0.9, "min_iou": 0.5}
    assert kept.provenance["backend"] == "a"


@pytest.mark.parametrize(
    "primary, reference, reason",
    [
        ([], [region([0, 0, 10, 10])], "no_box"),
        ([region([0, 0, 10, 10])], [], "grounders_disagree"),
        ([region([0, 0, 10, 10])], [region([5, 5, 15, 15])], "grounders_disagree"),  # IoU 0.14
    ],
)
def test_disagreement_is_a_rejection(primary, reference, reason):
    with pytest.raises(GroundingRejected) as info:
        cross_check(primary, reference, min_iou=0.5)
    assert info.value.reason == reason


def test_min_iou_must_be_a_fraction():
    with pytest.raises(ValueError, match="min_iou"):
        cross_check([region([0, 0, 1, 1])], [region([0, 0, 1, 1])], min_iou=0)
