import pytest

from vzero_train.evaluate.answers import clean_response, extract_choice, match_open, normalize_text

COLORS = ["blue", "red", "dark red", "green"]


@pytest.mark.parametrize(
    "response, expected",
    [
        # a bare letter, in the forms models write it
        ("B", "B"),
        ("b", "B"),
        ("(C)", "C"),
        ("C.", "C"),
        (" D) ", "D"),
        ("**B**", "B"),
        ("\\boxed{D}", "D"),
        # stated answers; the last statement wins over reasoning before it
        ("The answer is B", "B"),
        ("The answer is (D).", "D"),
        ("Answer: A", "A"),
        ("answer: d", "D"),
        ("The correct answer is: C", "C"),
        ("Option D", "D"),
        ("The correct option would be (b).", "B"),
        ("Looking closely, A seems wrong; the answer is C.", "C"),
        ("<think>It could be A or B.</think>The answer is B.", "B"),
        ("<think>hmm, A?</think>\nC", "C"),
        # a leading letter followed by the option text
        ("A. blue", "A"),
        ("(B) red", "B"),
        ("C: dark red", "C"),
        ("I think it's (C) dark red", "C"),
        ("B is correct", "B"),
        ("Is it B? Yes, B.", "B"),
        # the option's text
        ("The color is green.", "D"),
        ("red", "B"),
        ("It is dark red.", "C"),  # "dark red" contains "red": the longer option wins
        ("A red star.", "B"),  # "A" as an article is not option A
        ("The answer is a red star", "B"),
        ("The answer is red.", "B"),
        ("GREEN", "D"),
        # unparseable: nothing, several, or an out-of-range letter
        ("", None),
        ("   ", None),
        ("I cannot tell from the image.", None),
        ("None of the options.", None),
        ("red or blue", None),
        ("A and B", None),
        ("E", None),
        ("The answer is E.", None),
        ("7 sign thea7 sign thea", None),
    ],
)
def test_extract_choice(response, expected):
    assert extract_choice(response, COLORS) == expected


@pytest.mark.parametrize(
    "response, options, expected",
    [
        ("2", ["1", "2", "3", "4"], "B"),
        ("There are 3 cars.", ["1", "2", "3", "4"], "C"),
        ("The sign says (STOP).", ["GO", "(STOP)", "EXIT"], "B"),
        ("(E) none of these", ["a", "b", "c", "d", "none of these"], "E"),
    ],
)
def test_extract_choice_other_options(response, options, expected):
    assert extract_choice(response, options) == expected


@pytest.mark.parametrize(
    "response, expected",
    [
        ("<think>reasoning</think> B", "B"),
        ("dangling reasoning</think>B", "B"),
        ("**The answer** is `C`", "The answer is C"),
        ("\\boxed{42}", "42"),
    ],
)
def test_clean_response(response, expected):
    assert clean_response(response) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The Dog.", "dog"),
        ("Two", "2"),
        ("an  apple, please!", "apple please"),
        ("STOP", "stop"),
    ],
)
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    "response, answer, prediction, correct",
    [
        ("Two.", "2", "Two.", True),
        ("The answer is the dog", "dog", "the dog", True),
        ("Stop\nThe sign on the left reads STOP.", "stop", "Stop", True),
        ("Red. The car is parked.", "red", "Red.", True),
        ("cat", "dog", "cat", False),
        ("", "dog", None, False),
    ],
)
def test_match_open(response, answer, prediction, correct):
    assert match_open(response, answer) == (prediction, correct)
