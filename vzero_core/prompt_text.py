"""The words every model is shown: the question text and the prompt templates around it.

One builder for all of vzero: supervised fine-tuning, on-policy distillation, evaluation and the
exports show a model a question as :func:`question_text` writes it (the question, its lettered
options when it has any, and an answer instruction), and a stored sample's options always in the
order :func:`sample_options` fixes from its id, so training and evaluation ask the same question in
the same words. ``<image>`` marks the full image in a template, ``<crop>`` the teacher's crop (the
positive crop, or the negative view in its place).
"""

from __future__ import annotations

from collections.abc import Sequence

from vzero_core.choices import CHOICE_INSTRUCTION, item_order, lettered_text

OPEN_INSTRUCTION = "Answer the question using a single word or phrase."
IMAGE_TAG = "<image>"
CROP_TAG = "<crop>"
DEFAULT_STUDENT_TEMPLATE = "<image>\n{question}"
DEFAULT_TEACHER_TEMPLATE = (
    "<image>\n{question}\nA zoomed-in view of the region relevant to the question: <crop>"
)


def fill_question(template: str, question: str) -> str:
    """``template`` with ``{question}`` replaced (no other braces are interpreted)."""
    return template.replace("{question}", question)


def question_text(
    question: str,
    options: Sequence[str] = (),
    choice_instruction: str = CHOICE_INSTRUCTION,
    open_instruction: str = OPEN_INSTRUCTION,
) -> str:
    """The text that fills a template's ``{question}``: the question, one "(A) option" line per
    option and the choice instruction, or for an open question the question and ``open_instruction``."""
    if options:
        return lettered_text(question, options, choice_instruction)
    return f"{question}\n{open_instruction}"


def sample_options(options: Sequence[str] | None, sample_id: str) -> tuple[str, ...]:
    """A stored sample's options in the order shown to every model: fixed by the sample id
    (:func:`vzero_core.choices.item_order`), never the stored order, which can reveal the answer
    (V* Bench stores the correct option first)."""
    options = tuple(options or ())
    return tuple(options[i] for i in item_order(len(options), sample_id))


def sample_question(question: str, options: Sequence[str] | None, sample_id: str) -> str:
    """A stored sample's question as training and evaluation show it (:func:`question_text` over
    :func:`sample_options`)."""
    return question_text(question, sample_options(options, sample_id))
