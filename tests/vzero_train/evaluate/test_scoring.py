import pytest
from PIL import Image

from vzero_data.benchmarks.items import EvalItem
from vzero_train.evaluate.scoring import ItemResult, Score, Summary, score_response, wilson_interval


# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Statistics in
# Medicine 17:857-872, Table I, method 3 (score interval without continuity correction); the last
# rows are textbook values.
@pytest.mark.parametrize(
    "correct, n, low, high",
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (50, 100, 0.4038, 0.5962),
        (0, 10, 0.0000, 0.2775),
        (10, 10, 0.7225, 1.0000),
    ],
)
def test_wilson_interval_matches_published_values(correct, n, low, high):
    got_low, got_high = wilson_interval(correct, n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_widens_with_confidence_and_narrows_with_n():
    lo95, hi95 = wilson_interval(30, 60)
    lo99, hi99 = wilson_interval(30, 60, confidence=0.99)
    assert lo99 < lo95 < 0.5 < hi95 < hi99
    lo_big, hi_big = wilson_interval(300, 600)
    assert hi_big - lo_big < hi95 - lo95


@pytest.mark.parametrize(
    "correct, n, message",
    [(0, 0, "at least one trial"), (5, 4, r"correct must lie in \[0, n=4\]"), (-1, 4, "correct must lie")],
)
def test_wilson_interval_rejects_bad_counts(correct, n, message):
    with pytest.raises(ValueError, match=message):
        wilson_interval(correct, n)


def _item(options=("blue", "red"), answer="B", category="all"):
    return EvalItem(
        "q1", "bench", "What colour?", answer, lambda: Image.new("RGB", (4, 4)), tuple(options), category
    )


def _result(correct: bool, parsed: bool = True, category: str = "all") -> ItemResult:
    return ItemResult("q", "b", category, "?", (), "x", "r", "x" if parsed else None, correct)


@pytest.mark.parametrize(
    "item, response, prediction, correct",
    [
        (_item(), "B", "B", True),
        (_item(), "red", "B", True),
        (_item(), "The answer is A", "A", False),
        (_item(), "no idea", None, False),
        (_item(options=(), answer="two"), "2", "2", True),
        (_item(options=(), answer="two"), "three", "three", False),
    ],
)
def test_score_response(item, response, prediction, correct):
    result = score_response(item, response)
    assert (result.prediction, result.correct, result.parsed, result.judged) == (
        prediction,
        correct,
        prediction is not None,
        False,
    )


class FixedJudge:
    def __init__(self, letter=None, verdict=None):
        self.letter, self.verdict, self.calls = letter, verdict, 0

    def choose(self, item, response):
        self.calls += 1
        return self.letter

    def agrees(self, item, response):
        self.calls += 1
        return self.verdict


def test_judge_is_asked_only_when_rules_cannot_decide():
    judge = FixedJudge(letter="B", verdict=True)
    assert score_response(_item(), "A", judge).judged is False
    assert judge.calls == 0
    resolved = score_response(_item(), "it is the second one", judge)
    assert (resolved.prediction, resolved.correct, resolved.judged) == ("B", True, True)
    open_item = _item(options=(), answer="dog")
    assert score_response(open_item, "a puppy", judge).correct is True
    assert score_response(open_item, "dog", judge).judged is False


def test_score_counts_unparseable_as_wrong_and_brackets_accuracy():
    results = [_result(True)] * 6 + [_result(False)] * 3 + [_result(False, parsed=False)]
    score = Score.of(results)
    assert (score.n, score.correct, score.unparseable, score.accuracy) == (10, 6, 1, 0.6)
    assert (score.ci_low, score.ci_high) == pytest.approx(wilson_interval(6, 10))
    assert score.ci_low <= score.accuracy <= score.ci_high


def test_empty_score_has_no_accuracy():
    assert Score.of([]) == Score(0, 0, 0)


def test_summary_splits_by_category_in_name_order():
    results = [
        _result(True, category="zeta"),
        _result(False, category="alpha"),
        _result(True, category="alpha"),
    ]
    summary = Summary.of(results)
    assert list(summary.categories) == ["alpha", "zeta"]
    assert summary.overall.n == 3 and summary.categories["alpha"].accuracy == 0.5
    assert summary.to_dict()["categories"]["zeta"]["correct"] == 1


@pytest.mark.parametrize("n", [1, 3, 7, 10, 191, 1000])
def test_wilson_interval_ends_are_exact(n):
    assert wilson_interval(0, n)[0] == 0.0
    assert wilson_interval(n, n)[1] == 1.0


def _rotated(group: str, rotation: str, correct: bool) -> ItemResult:
    return ItemResult(
        f"{group}-{rotation}", "hr", "single", "q", ("a", "b"), "A", "A", "A" if correct else "B", correct,
        group=group, rotation=rotation,
    )  # fmt: skip


@pytest.mark.parametrize(
    "answers, strict_correct, rotation_mean",
    [
        # base question g1 right in every rotation, g2 wrong once: 1 of 2 strictly correct
        ({("g1", "c1"): True, ("g1", "c2"): True, ("g2", "c1"): True, ("g2", "c2"): False}, 1, 0.75),
        ({("g1", "c1"): False, ("g1", "c2"): True, ("g2", "c1"): False, ("g2", "c2"): True}, 0, 0.5),
        ({("g1", "c1"): True, ("g1", "c2"): True, ("g2", "c1"): True, ("g2", "c2"): True}, 2, 1.0),
    ],
)
def test_cycle_score_counts_a_base_question_only_when_every_rotation_is_right(
    answers, strict_correct, rotation_mean
):
    summary = Summary.of([_rotated(g, r, ok) for (g, r), ok in answers.items()])
    assert summary.cycle.strict.n == 2 and summary.cycle.strict.correct == strict_correct
    assert summary.cycle.rotation_mean == pytest.approx(rotation_mean) and summary.cycle.rotations == 2
    assert summary.overall.n == 4
    assert "cycle" in summary.to_dict()


def test_no_cycle_score_without_rotations():
    summary = Summary.of([_result(True), _result(False)])
    assert summary.cycle is None and "cycle" not in summary.to_dict()
