"""What a student answered: the spread of answers, the unparseable share, and the collapse flag."""

import pytest

from vzero_train.sandbox.answers import COLLAPSE_SHARE, answer_profile, answered


def row(prediction, options=("red", "blue", "green", "yellow"), response=None):
    return {
        "prediction": prediction,
        "options": list(options),
        "response": str(prediction) if response is None else response,
    }


@pytest.mark.parametrize(
    "r, expected",
    [
        (row("B"), "blue"),  # a letter read: the option's text
        (row("A", ("Green", "x")), "green"),
        (row(None, response=" Blue "), "blue"),  # unparseable: what it said
        (row(None, response=""), "<empty>"),
        (row("E"), "e"),  # a letter past the options is not an option: the raw response
    ],
)
def test_answered(r, expected):
    assert answered(r) == expected


def test_one_colour_for_everything_is_collapsed_even_when_the_letters_differ():
    """The sandbox's old failure: 'blue' to every question; the options are shuffled per item, so
    the letters vary, and blue is sometimes not an option at all (unparseable)."""
    rows = [row("A", ("blue", "red", "green", "pink")), row("C", ("red", "green", "blue", "pink"))] * 10
    rows += [row(None, ("red", "green", "pink", "cyan"), response="blue")] * 5
    profile = answer_profile(rows)
    assert profile["collapsed"] and profile["answers"][0] == {"answer": "blue", "share": 1.0}
    assert profile["unparseable"] == pytest.approx(5 / 25)


@pytest.mark.parametrize(
    "answers, collapsed",
    [
        (["red"] * 8 + ["blue"] * 2, True),  # exactly the threshold
        (["red"] * 7 + ["blue"] * 3, False),
        (["red", "blue", "green", "yellow"] * 5, False),
    ],
)
def test_collapse_threshold(answers, collapsed):
    options = ("red", "blue", "green", "yellow")
    rows = [row("ABCD"[options.index(a)], options) for a in answers]
    assert answer_profile(rows)["collapsed"] is collapsed
    assert COLLAPSE_SHARE == 0.8


def test_no_rows():
    profile = answer_profile([])
    assert (profile["n"], profile["answers"], profile["collapsed"]) == (0, [], False)
