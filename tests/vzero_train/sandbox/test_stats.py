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


@pytest.mark.parametrize(
    "a, b, difference, half_width",
    [
        # 400 items, one arm right on half of them and the other on none: the paired differences are
        # 0 or 1 with mean 0.5, standard error sqrt(0.25 / 400) = 0.025, so the 95% interval is
        # about 0.5 +/- 1.96 x 0.025
        ([1, 0] * 200, [0] * 400, 0.5, 0.049),
        # 100 items, differences +1 on 30, -1 on 10: mean 0.2, sd 0.6, se 0.06
        ([1] * 30 + [0] * 10 + [1] * 60, [0] * 30 + [1] * 10 + [1] * 60, 0.2, 0.118),
    ],
)
def test_bootstrap_interval_has_the_width_of_the_sampling_error(a, b, difference, half_width):
    result = paired_difference(outcomes(a), outcomes(b), resamples=4000)
    assert result["difference"] == pytest.approx(difference)
    assert result["ci_low"] == pytest.approx(difference - half_width, abs=0.012)
    assert result["ci_high"] == pytest.approx(difference + half_width, abs=0.012)


def test_bootstrap_over_seeds_widens_the_interval_when_seeds_disagree():
    """Two seeds, one where ``a`` wins everywhere and one where it loses everywhere: items alone would
    give a tight interval around 0; resampling the seeds too spans most of [-1, 1]."""
    a = {**outcomes([1] * 50, seed=0), **outcomes([0] * 50, seed=1)}
    b = {**outcomes([0] * 50, seed=0), **outcomes([1] * 50, seed=1)}
    result = paired_difference(a, b, resamples=2000)
    assert result["difference"] == 0.0 and result["n_seeds"] == 2
    assert result["ci_low"] <= -0.9 and result["ci_high"] >= 0.9
