import pytest
from PIL import Image

from vzero_data.benchmarks.items import (
    EvalDataError,
    EvalItem,
    answer_letter,
    image_from_bytes,
    image_from_file,
)


def _blank():
    return Image.new("RGB", (2, 2))


@pytest.mark.parametrize(
    "answer, options, letter",
    [
        ("red", ["blue", "red"], "B"),
        ("b", ["blue", "red"], "B"),
        ("(A)", ["x", "y"], "A"),
        ("A", ["A", "B"], "A"),
    ],
)
def test_answer_letter(answer, options, letter):
    assert answer_letter(answer, options, "here") == letter


def test_answer_letter_rejects_unknown_answers():
    with pytest.raises(EvalDataError, match=r"here: answer 'C' is neither an option letter"):
        answer_letter("C", ["x", "y"], "here")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"question": "  "}, "b/q: empty question"),
        ({"answer": "C", "options": ("x", "y")}, "answer 'C' is not one of the option letters A, B"),
        ({"answer": "A", "options": tuple("x" * 27)}, "27 options, at most 26"),
    ],
)
def test_item_validation(kwargs, message):
    fields = {
        "item_id": "q",
        "benchmark": "b",
        "question": "Q?",
        "answer": "A",
        "load_image": _blank,
        **kwargs,
    }
    with pytest.raises(EvalDataError, match=message):
        EvalItem(**fields)


def test_answer_text():
    assert EvalItem("q", "b", "Q?", "B", _blank, ("x", "y")).answer_text == "y"
    assert EvalItem("q", "b", "Q?", "dog", _blank).answer_text == "dog"


def test_image_loaders_decode_to_rgb(tmp_path):
    Image.new("L", (5, 3)).save(tmp_path / "g.png")
    assert image_from_file(tmp_path / "g.png")().mode == "RGB"
    assert image_from_bytes((tmp_path / "g.png").read_bytes())().size == (5, 3)
    with pytest.raises(EvalDataError, match="image not found"):
        image_from_file(tmp_path / "none.png")
