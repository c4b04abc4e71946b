"""Step-0 guards: before the first update, check that the images actually reach the models.

A prompt template without its image, a processor that drops pixels, or a model wrapper that ignores
them all train without an error: the loss is finite, the gate produces weights, and the run learns
nothing about the image. Two teacher-forced replays each settle it on one real prompt of the run:

- the student's log-probs of a fixed response with the real image must differ from those with a
  blank (mid-grey) image of the same size;
- the teacher's log-probs with the positive crop must differ from those with a blank crop of the
  same size (the full image stays): the gate compares exactly such a difference.

(Student and teacher sharing one tokenizer and chat template is checked when the teacher is built,
:func:`vzero_core.vlm.models.check_same_tokenizer`.)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch

from vzero_core.vlm.prompts import PromptTemplates, build_messages, render_prompt
from vzero_core.vlm.replay import replay_logprobs
from vzero_train.data import PromptItem, PromptStream, to_prompt_item

PROBE_RESPONSE = "The answer is B, a small red triangle."
BLANK_GREY = (128, 128, 128)
MIN_DIFFERENCE = 1e-6  # nats; an image that never reaches the model gives exactly 0


class PreflightError(RuntimeError):
    """The run would train on inputs that do not reach a model; the message says which and why."""


@dataclass(frozen=True)
class PreflightReport:
    """Largest per-token log-prob change from blanking the student's image / the teacher's crop."""

    student_image_effect: float
    teacher_crop_effect: float


def blank_like(image: Any) -> Any:
    """A mid-grey RGB image of ``image``'s size."""
    from PIL import Image

    return Image.new("RGB", image.size, BLANK_GREY)


def first_prompt_item(stream: PromptStream) -> PromptItem:
    """The first record of the stream's source as a prompt item, without consuming the stream."""
    record = next(iter(stream.source()), None)
    if record is None:
        raise PreflightError("the training record source is empty")
    return to_prompt_item(record, 0, negative=stream.negative, requested=stream.strategies, seed=stream.seed)


def _max_effect(
    model: Any,
    processor: Any,
    prompt: str,
    real: list[Any],
    blank: list[Any],
    response: torch.Tensor,
    *,
    nested_images: bool,
    device: Any,
) -> float:
    # one sequence per forward: the two replays go through identical kernels
    kwargs = dict(nested_images=nested_images, micro_batch_size=1, device=device)
    with_real = replay_logprobs(model, processor, [prompt], [real], response, **kwargs)
    with_blank = replay_logprobs(model, processor, [prompt], [blank], response, **kwargs)
    return float((with_real - with_blank).abs().max())


def check_images_reach_models(
    student: Any,
    student_processor: Any,
    teacher: Any,
    teacher_processor: Any,
    templates: PromptTemplates,
    item: PromptItem,
    *,
    student_nested_images: bool,
    teacher_nested_images: bool,
    device: Any = None,
    autocast: Any = contextlib.nullcontext,
) -> PreflightReport:
    """Raise :class:`PreflightError` unless blanking the student's image changes the student's
    log-probs and blanking the positive crop changes the teacher's; return both changes."""
    tokenizer = student_processor.tokenizer
    response = torch.tensor([tokenizer(PROBE_RESPONSE, add_special_tokens=False)["input_ids"]])

    def prompt(template: str) -> str:
        return render_prompt(tokenizer, build_messages(template, item.question, templates.system))

    with autocast():
        student_effect = _max_effect(
            student,
            student_processor,
            prompt(templates.student),
            [item.image],
            [blank_like(item.image)],
            response,
            nested_images=student_nested_images,
            device=device,
        )
        teacher_effect = _max_effect(
            teacher,
            teacher_processor,
            prompt(templates.teacher),
            [item.image, item.positive],
            [item.image, blank_like(item.positive)],
            response,
            nested_images=teacher_nested_images,
            device=device,
        )
    where = f"(checked on sample {item.sample_id} before the first update)"
    if not student_effect > MIN_DIFFERENCE:
        raise PreflightError(
            f"the student's log-probs are the same with the real image and with a blank one {where}: "
            "the image does not reach the student. Check the student template's <image> and the processor."
        )
    if not teacher_effect > MIN_DIFFERENCE:
        raise PreflightError(
            f"the teacher's log-probs are the same with the positive crop and with a blank crop {where}: "
            "the evidence view does not reach the teacher, so the gate would compare nothing. "
            "Check the teacher template's <crop> and the processor."
        )
    return PreflightReport(student_effect, teacher_effect)
