"""How well the teacher answers with the positive crop, with each negative view, and with no crop.

The gate only means something if the teacher prefers the right answer with the evidence and not
without it. For each held-out record the teacher scores every option's text after the question
(teacher forcing, the same code as training's replay) with the full image plus one view in the crop
slot, or with the full image alone through the student template (``none``). Its choice is the most
likely option; the report gives accuracy and the mean log-prob of the correct answer per view.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch

from vzero_core.prompt_text import sample_options, sample_question
from vzero_core.vlm.option_scoring import answer_totals
from vzero_core.vlm.prompts import PromptTemplates, build_messages, render_prompt
from vzero_data.benchmarks.items import LETTERS, answer_letter

POSITIVE, NO_CROP = "positive", "none"


def option_logprobs(vlm: Any, prompt: str, images: list[Any], options: Sequence[str]) -> torch.Tensor:
    """Summed log-prob of each option's text (plus end of turn) after ``prompt`` with ``images``."""
    return answer_totals(vlm, [prompt] * len(options), [images] * len(options), list(options))


def teacher_view_scores(
    vlm: Any,
    records: Iterable[Any],
    views: Sequence[str],
    templates: PromptTemplates | None = None,
    *,
    total: int | None = None,
) -> dict[str, dict[str, float]]:
    """Per view: ``accuracy``, ``n`` and ``correct_logprob`` (mean log-prob of the right option).
    Shows progress over the records (``total`` of them, when known)."""
    from vzero_core.progress import progress_bar

    templates = templates or PromptTemplates()
    tallies = {v: {"correct": 0, "n": 0, "logprob": 0.0} for v in views}
    vlm.model.eval()
    for record in progress_bar(records, total=total, desc="teacher check", unit="sample"):
        options = sample_options(record.eval_options, record.sample_id)
        if not options:
            raise ValueError(f"sample {record.sample_id}: the teacher check needs multiple-choice records")
        right = LETTERS.index(answer_letter(str(record.eval_answer), options, f"sample {record.sample_id}"))
        question = sample_question(record.question, record.eval_options, record.sample_id)
        for view in views:
            if view == NO_CROP:
                template, images = templates.student, [record.image]
            else:
                crop = record.positive if view == POSITIVE else record.negatives.get(view)
                if crop is None:
                    continue
                template, images = templates.teacher, [record.image, crop]
            prompt = render_prompt(vlm.tokenizer, build_messages(template, question, templates.system))
            scores = option_logprobs(vlm, prompt, images, options)
            t = tallies[view]
            t["n"] += 1
            t["correct"] += int(int(scores.argmax()) == right)
            t["logprob"] += float(scores[right])
    return {
        v: {
            "accuracy": t["correct"] / t["n"] if t["n"] else float("nan"),
            "n": t["n"],
            "correct_logprob": t["logprob"] / t["n"] if t["n"] else float("nan"),
        }
        for v, t in tallies.items()
    }
