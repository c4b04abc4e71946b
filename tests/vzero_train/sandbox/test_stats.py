import pytest

from vzero_train.sandbox.stats import accuracy, exact_sign_test, paired_difference


@pytest.mark.parametrize(
    "wins, losses, expected",
    [(0, 0, 1.0), (5, 5, 1.0), (6, 0, 2 / 64), (0, 6, 2 / 64), (9, 1, 22 / 1024)],
)
def test_exact_sign_test(wins, losses, expected):
    assert exact_sign_test(wins, losses) == pytest.approx(expected)


def outcomes(values, seed=0):
    return {(seed, f"q{i}"): bool(v) for i, v in enumerate(values)}


def test_accuracy_has_a_wilson_interval():
    result = accuracy(outcomes([1, 1, 1, 0]))
    assert (result["accuracy"], result["n"], result["correct"]) == (0.75, 4, 3)
    assert result["ci_low"] < 0.75 < result["ci_high"]


@pytest.mark.parametrize(
    "a, b, difference, wins, losses",
    [
        ([1, 1, 0, 0], [1, 1, 0, 0], 0.0, 0, 0),
        ([1, 1, 1, 1], [0, 0, 0, 0], 1.0, 4, 0),
        ([1, 0, 1, 0], [0, 1, 1, 0], 0.0, 1, 1),
        ([1, 1, 1, 0], [0, 1, 0, 0], 0.5, 2, 0),
    ],
)
def test_paired_difference_counts_discordant_pairs(a, b, difference, wins, losses):
    result = paired_difference(outcomes(a), outcomes(b), resamples=200)
    assert result["difference"] == pytest.approx(difference)
    assert (result["wins"], result["losses"], result["n_pairs"]) == (wins, losses, 4)
    assert result["ci_low"] <= difference <= result["ci_high"]


def test_paired_difference_pairs_by_seed_and_item_only():
    a = {**outcomes([1, 1], seed=0), **outcomes([1, 1], seed=1)}
    b = outcomes([0, 0], seed=1)  # only seed 1 is shared
    result = paired_difference(a, b, resamples=50)
    assert result["n_pairs"] == 2 and result["difference"] == 1.0
    with pytest.raises(ValueError, match="share no"):
        paired_difference(outcomes([1], seed=0), outcomes([1], seed=3))
