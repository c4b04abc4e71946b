"""Multiple choice by likelihood: the option the model gives the highest log-prob as its whole answer.

Greedy generation measures whether a model *says* a valid answer; a small or briefly trained model
often says something else (a colour that is not an option, a stray token) and scores below chance
though it ranks the right option first. Scoring each option teacher-forced, the way lm-eval-harness
scores multiple choice, measures what the model knows with no parsing at all; the sandbox reports
its arms this way. The candidates are written the way the model was taught to answer: each option's
text (``option``) or its letter (``letter``), followed by the end-of-turn token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from vzero_core.vlm.option_scoring import answer_totals
from vzero_data.benchmarks.items import LETTERS, EvalItem

Scoring = Literal["generate", "option", "letter"]


def candidates(item: EvalItem, scoring: Scoring) -> list[str]:
    """The answers scored for ``item``: its options' texts or their letters."""
    if scoring == "letter":
        return list(LETTERS[: len(item.options)])
    return list(item.options)


def choose_by_likelihood(
    vlm: Any, items: Sequence[EvalItem], prompts: Sequence[str], images: Sequence[Any], scoring: Scoring
) -> list[str]:
    """For each multiple-choice item (with its rendered prompt and image), the candidate with the
    highest summed log-prob, written as the model's response (so the usual scoring reads it)."""
    if scoring not in ("option", "letter"):
        raise ValueError(f"scoring must be 'option' or 'letter', got {scoring!r}")
    open_items = [it.item_id for it in items if not it.options]
    if open_items:
        raise ValueError(f"{items[0].benchmark}/{open_items[0]}: likelihood scoring needs options")
    rows_prompts, rows_images, rows_answers, owners = [], [], [], []
    for k, (item, prompt, image) in enumerate(zip(items, prompts, images, strict=True)):
        for answer in candidates(item, scoring):
            rows_prompts.append(prompt)
            rows_images.append(list(image) if isinstance(image, (list, tuple)) else [image])
            rows_answers.append(answer)
            owners.append(k)
    totals = answer_totals(vlm, rows_prompts, rows_images, rows_answers)
    best: dict[int, tuple[float, str]] = {}
    for owner, answer, total in zip(owners, rows_answers, totals.tolist(), strict=True):
        if owner not in best or total > best[owner][0]:
            best[owner] = (total, answer)
    return [best[k][1] for k in range(len(items))]
