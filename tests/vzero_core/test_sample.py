import pytest

from vzero_core.boxes import Box
from vzero_core.sample import Sample, SampleError, image_digest, make_sample_id

DIGEST = image_digest(b"fake image bytes")


def make(**overrides):
    fields = dict(
        image="a.png", image_sha256=DIGEST, width=100, height=80, question="What colour is the cup?"
    )
    fields.update(overrides)
    return Sample.create(**fields)


def test_digest_is_sha256_hex():
    assert image_digest(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    "q1, q2, same",
    [
        ("What colour is the cup?", "What colour is the cup?", True),
        ("What colour is the cup?", "  What  colour is\nthe cup? ", True),  # whitespace-normalised
        ("What colour is the cup?", "What colour is the mug?", False),
    ],
)
def test_sample_id_is_stable_and_depends_on_question(q1, q2, same):
    assert (make_sample_id(DIGEST, q1) == make_sample_id(DIGEST, q2)) is same


def test_sample_id_depends_on_image_content_not_name():
    a = make(image="x/a.png")
    b = make(image="y/other_name.png")
    c = make(image_sha256=image_digest(b"other bytes"))
    assert a.sample_id == b.sample_id != c.sample_id
    assert len(a.sample_id) == 20


def test_round_trip_through_dict():
    s = make(
        answer="red",
        options=("red", "blue"),
        target="cup",
        boxes=(Box(1, 2, 30, 40),),
        source="unit",
        metadata={"k": 1},
    )
    assert Sample.from_dict(s.to_dict()) == s


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"question": "   "}, "question is empty"),
        ({"width": 0}, "image size must be positive"),
        ({"height": -3}, "image size must be positive"),
        ({"boxes": (Box(200, 0, 300, 10),)}, r"boxes\[0\].*outside the 100x80 image"),
        ({"boxes": ([0, 0, 1, 1],)}, r"boxes\[0\] is list, expected Box"),
    ],
)
def test_bad_samples_are_rejected_with_located_messages(overrides, message):
    with pytest.raises(SampleError, match=message):
        make(**overrides)
