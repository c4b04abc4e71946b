"""Which answer an audit scores as the reference, and its candidates: the label (labelled), the
teacher's own answer (label-free, which never reads the answer), or the label where there is one."""

import pytest

from vzero_core.prompt_text import sample_options
from vzero_data.audit.scorer import AuditInputError, reference

OPTIONS = ["red", "green", "blue", "yellow"]


class NoAnswer(dict):
    """A samples row that fails the test if its answer is read."""

    def get(self, key, default=None):
        assert key != "answer", "label-free mode read the answer"
        return super().get(key, default)

    def __getitem__(self, key):
        assert key != "answer", "label-free mode read the answer"
        return super().__getitem__(key)


def row(answer="green", options=OPTIONS, sid="s1"):
    return {"sample_id": sid, "answer": answer, "options": options}


def shown(sid="s1"):
    return sample_options(OPTIONS, sid)


@pytest.mark.parametrize("mode", ["labelled", "auto"])
def test_labelled_multiple_choice_scores_every_option_in_the_order_shown(mode):
    used, candidates, ref = reference(row(), mode, "option")
    assert used == "labelled" and candidates == shown()
    assert candidates[ref] == "green"


@pytest.mark.parametrize("answer", ["green", "B", "(b)"])
def test_a_letter_label_names_the_stored_order_whatever_order_is_shown(answer):
    _, candidates, ref = reference(row(answer), "labelled", "option")
    assert candidates[ref] == "green"


def test_letters_are_scored_when_asked():
    used, candidates, ref = reference(row(), "labelled", "letter")
    assert candidates == ("A", "B", "C", "D") and shown()[ref] == "green"


def test_label_free_leaves_the_choice_to_the_teacher_and_never_reads_the_answer():
    used, candidates, ref = reference(NoAnswer(row()), "label_free", "option")
    assert (used, candidates, ref) == ("label_free", shown(), None)


@pytest.mark.parametrize(
    "sample, mode, expected",
    [
        (row(answer=None), "auto", ("label_free", tuple(sample_options(OPTIONS, "s1")), None)),
        (row(answer="  "), "auto", ("label_free", tuple(sample_options(OPTIONS, "s1")), None)),
        (row(answer="a cat", options=None), "labelled", ("labelled", ("a cat",), 0)),
        (row(answer=None, options=None), "auto", ("label_free", (), None)),
    ],
)
def test_open_questions_and_missing_labels(sample, mode, expected):
    assert reference(sample, mode, "option") == expected


@pytest.mark.parametrize(
    "sample, reason",
    [(row(answer=None), "no_label"), (row(answer="purple"), "bad_label")],
)
def test_a_label_that_cannot_be_audited_is_a_reason(sample, reason):
    with pytest.raises(AuditInputError) as info:
        reference(sample, "labelled", "option")
    assert info.value.reason == reason and "sample s1" in str(info.value)
