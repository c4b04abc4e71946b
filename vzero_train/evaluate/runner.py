"""Batched full-image inference: the student template, greedy decoding, one pass per question.

V-Zero never changes inference: the model sees the full image and the question through the same
student template as in training, with the options and an answer instruction appended to the
question text. :func:`evaluate_model` is also what the trainer calls for in-training validation.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vzero_core.choices import CHOICE_INSTRUCTION
from vzero_core.prompt_text import OPEN_INSTRUCTION, question_text
from vzero_core.vlm.prompts import PromptTemplates, build_messages, encode_prompts, render_prompt
from vzero_data.benchmarks.items import EvalItem, Skipped
from vzero_train.evaluate.likelihood import Scoring, choose_by_likelihood
from vzero_train.evaluate.scoring import CONFIDENCE, ItemResult, Summary, score_response

if TYPE_CHECKING:
    from vzero_core.vlm.models import LoadedVLM
    from vzero_train.evaluate.judge import Judge

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 8
DEFAULT_MAX_NEW_TOKENS = 64


def item_question(
    item: EvalItem, choice_instruction: str = CHOICE_INSTRUCTION, open_instruction: str = OPEN_INSTRUCTION
) -> str:
    """The text filling the template's ``{question}`` for a benchmark item, as training asks it
    (:func:`vzero_core.prompt_text.question_text`): question, lettered options, instruction."""
    return question_text(item.question, item.options, choice_instruction, open_instruction)


@dataclass
class EvalResult:
    """Scored responses and skipped entries of one evaluation pass."""

    name: str
    results: list[ItemResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self, confidence: float = CONFIDENCE) -> Summary:
        return Summary.of(self.results, confidence)

    def metrics(self, prefix: str = "eval") -> dict[str, float]:
        """Flat numbers for a training log: accuracy, CI bounds, n, unparseable, skipped."""
        overall = self.summary().overall
        key = f"{prefix}/{self.name}" if self.name else prefix
        out = {
            f"{key}/n": float(overall.n),
            f"{key}/unparseable": float(overall.unparseable),
            f"{key}/skipped": float(len(self.skipped)),
        }
        if overall.accuracy is not None:
            out[f"{key}/accuracy"] = overall.accuracy
            out[f"{key}/ci_low"] = float(overall.ci_low)
            out[f"{key}/ci_high"] = float(overall.ci_high)
        return out


def _batches(
    items: Iterable[EvalItem | Skipped], size: int, skipped: list[Skipped]
) -> Iterator[list[tuple[EvalItem, Any]]]:
    """Batches of (item, decoded image); entries whose image fails to decode join ``skipped``."""
    batch: list[tuple[EvalItem, Any]] = []
    for entry in items:
        if isinstance(entry, Skipped):
            logger.warning("skipped %s/%s: %s", entry.benchmark, entry.item_id, entry.reason)
            skipped.append(entry)
            continue
        try:
            image = entry.load_image()
        except (OSError, ValueError) as exc:
            reason = f"image could not be decoded: {exc}"
            logger.warning("skipped %s/%s: %s", entry.benchmark, entry.item_id, reason)
            skipped.append(Skipped(entry.item_id, entry.benchmark, reason))
            continue
        batch.append((entry, image))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def greedy_config(model: Any, max_new_tokens: int) -> Any:
    """The model's generation config made greedy, without sampling knobs (which would only warn)."""
    config = copy.deepcopy(model.generation_config)
    config.do_sample = False
    config.num_beams = 1
    config.temperature = None
    config.top_p = None
    config.top_k = None
    config.max_new_tokens = max_new_tokens
    return config


def generate_responses(
    vlm: LoadedVLM,
    prompts: list[str],
    images: list[Any],
    *,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
) -> list[str]:
    """Greedy responses to ``prompts`` in one batched ``generate``; each prompt has one image, or a
    list of images in the order of its template's image tags (the full image, then a crop)."""
    import torch

    lists = [list(img) if isinstance(img, (list, tuple)) else [img] for img in images]
    batch = encode_prompts(vlm.processor, prompts, lists, nested_images=vlm.nested_images)
    model = vlm.model
    dtype = next(model.parameters()).dtype
    inputs = {
        k: (v.to(model.device, dtype=dtype) if v.is_floating_point() else v.to(model.device))
        if hasattr(v, "to")
        else v
        for k, v in batch.items()
    }
    with torch.inference_mode():
        out = model.generate(**inputs, generation_config=greedy_config(model, max_new_tokens))
    new_tokens = out[:, inputs["input_ids"].shape[1] :]
    return vlm.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)


def evaluate_model(
    vlm: LoadedVLM,
    items: Iterable[EvalItem | Skipped],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    templates: PromptTemplates | None = None,
    judge: Judge | None = None,
    name: str = "",
    progress: bool = True,
    total: int | None = None,
    on_result: Callable[[ItemResult], None] | None = None,
    scoring: Scoring = "generate",
) -> EvalResult:
    """Answer every item on its full image (greedy, batched) and score the responses.

    ``scoring`` ``option`` or ``letter`` answers multiple-choice items by likelihood instead of
    generation (:mod:`vzero_train.evaluate.likelihood`); open questions always generate.

    ``items`` may be a stream (e.g. ``Benchmark.items()``); only one batch of images is held at a
    time. A model in training mode is switched to eval mode for the pass and back afterwards.
    ``on_result`` sees each scored item as it is produced (to stream predictions to disk).
    """
    from vzero_core.progress import progress_bar

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    templates = templates or PromptTemplates()
    result = EvalResult(name=name)
    was_training = vlm.model.training
    vlm.model.eval()
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    bar = progress_bar(total=total, desc=f"eval {name}".strip(), unit="q", enabled=progress)
    try:
        for batch in _batches(items, batch_size, result.skipped):
            prompts = [
                render_prompt(
                    vlm.tokenizer, build_messages(templates.student, item_question(it), templates.system)
                )
                for it, _ in batch
            ]
            responses = _responses(vlm, batch, prompts, scoring, max_new_tokens)
            for (item, _), response in zip(batch, responses, strict=True):
                scored = score_response(item, response, judge)
                result.results.append(scored)
                if on_result is not None:
                    on_result(scored)
            bar.update(len(batch))
            bar.set_postfix(_progress_postfix(result.results))
    finally:
        bar.close()
        vlm.model.train(was_training)
    return result


def _responses(
    vlm: LoadedVLM,
    batch: list[tuple[EvalItem, Any]],
    prompts: list[str],
    scoring: Scoring,
    max_new_tokens: int,
) -> list[str]:
    """Each item's response: generated, or for multiple choice under likelihood scoring, chosen."""
    chosen: list[int] = []
    rest: list[int] = []
    for k, (item, _) in enumerate(batch):
        (chosen if item.options and scoring != "generate" else rest).append(k)
    responses: list[str] = [""] * len(batch)
    if chosen:
        picks = choose_by_likelihood(
            vlm,
            [batch[k][0] for k in chosen],
            [prompts[k] for k in chosen],
            [batch[k][1] for k in chosen],
            scoring,
        )
        for k, pick in zip(chosen, picks, strict=True):
            responses[k] = pick
    if rest:
        generated = generate_responses(
            vlm, [prompts[k] for k in rest], [batch[k][1] for k in rest], max_new_tokens=max_new_tokens
        )
        for k, text in zip(rest, generated, strict=True):
            responses[k] = text
    return responses


def _progress_postfix(results: list[ItemResult]) -> dict[str, str]:
    correct = sum(r.correct for r in results)
    unparseable = sum(not r.parsed for r in results)
    return {"acc": f"{correct / max(1, len(results)):.3f}", "unparsed": str(unparseable)}
