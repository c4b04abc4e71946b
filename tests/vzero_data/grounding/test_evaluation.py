import pytest

from vzero_core.boxes import Box
from vzero_data.grounding.evaluation import grounding_score, sample_iou

T = Box(0, 0, 10, 10)


@pytest.mark.parametrize(
    "predictions, truths, iou",
    [
        ([Box(0, 0, 10, 10)], [T], 1.0),
        ([Box(0, 0, 10, 5)], [T], 0.5),
        ([Box(20, 20, 30, 30), Box(0, 0, 10, 5)], [T], 0.5),  # best prediction counts
        ([Box(20, 20, 30, 30)], [T, Box(20, 20, 30, 40)], 0.5),  # best-matching truth counts
        ([], [T], 0.0),
    ],
)
def test_sample_iou(predictions, truths, iou):
    assert sample_iou(predictions, truths) == pytest.approx(iou)


def test_sample_iou_needs_truth():
    with pytest.raises(ValueError, match="at least one ground-truth box"):
        sample_iou([T], [])


def test_recall_and_mean_iou():
    pairs = [([Box(0, 0, 10, 10)], [T]), ([Box(0, 0, 10, 4)], [T]), ([], [T]), ([Box(0, 0, 10, 5)], [T])]
    score = grounding_score(pairs, iou_threshold=0.5)
    assert score.samples == 4 and score.without_prediction == 1
    assert score.recall == pytest.approx(2 / 4)  # 1.0 and 0.5 pass, 0.4 and 0 do not
    assert score.mean_iou == pytest.approx((1.0 + 0.4 + 0.0 + 0.5) / 4)
    assert grounding_score([], iou_threshold=0.5).recall == 0.0


def test_iou_threshold_must_be_a_fraction():
    with pytest.raises(ValueError, match="iou_threshold"):
        grounding_score([], iou_threshold=1.5)
