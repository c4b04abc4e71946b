"""The shared "(A) ..." option parser and the per-item option order."""

import pytest

from vzero_core.choices import ChoiceError, item_order, label_letter, shuffled, split_lettered, strip_labels

INSTR = "Answer with the option's letter from the given choices directly."


@pytest.mark.parametrize(
    "text, question, options, instruction",
    [
        (
            f"What is the material of the glove?\n(A) rubber\n(B) cotton\n(C) kevlar\n(D) leather\n{INSTR}",
            "What is the material of the glove?",
            ("rubber", "cotton", "kevlar", "leather"),
            INSTR,
        ),
        ("What color? (A) red (B) blue", "What color?", ("red", "blue"), ""),
        ("Is (A) in the sign? (A) yes (B) no", "Is (A) in the sign?", ("yes", "no"), ""),
        (
            "The choices are listed below:\n(A) 12 km/h\n(B) 30 km/h",
            "The choices are listed below:",
            ("12 km/h", "30 km/h"),
            "",
        ),
        ("No options here (A) only one", None, None, None),
        ("Plain question?", None, None, None),
    ],
)
def test_split_lettered(text, question, options, instruction):
    got = split_lettered(text)
    if question is None:
        assert got is None
    else:
        assert (got.question, got.options, got.instruction) == (question, options, instruction)


@pytest.mark.parametrize(
    "options, expected",
    [
        (["A. red", "B. blue"], ["red", "blue"]),
        (["(A) 12", "(B) 13"], ["12", "13"]),
        (["A cat", "B dog"], ["A cat", "B dog"]),  # no label punctuation: left alone
        (["B. red", "A. blue"], ["B. red", "A. blue"]),  # letters out of order: not labels
    ],
)
def test_strip_labels(options, expected):
    assert strip_labels(options) == expected


@pytest.mark.parametrize("label, n, letter", [("B", 4, "B"), ("(c)", 4, "C"), (" d ", 4, "D"), (1, 2, "B")])
def test_label_letter(label, n, letter):
    assert label_letter(label, n) == letter


@pytest.mark.parametrize("label, n", [("E", 4), (5, 4), ("AB", 4), (True, 2)])
def test_bad_labels(label, n):
    with pytest.raises(ChoiceError):
        label_letter(label, n)


def test_item_order_is_fixed_per_key_and_varies_across_keys():
    assert item_order(4, "item-1") == item_order(4, "item-1")
    orders = {tuple(item_order(4, f"item-{i}")) for i in range(50)}
    assert len(orders) > 10
    shown, letter = shuffled(["right", "w1", "w2", "w3"], 0, "item-7")
    assert shown["ABCD".index(letter)] == "right"
