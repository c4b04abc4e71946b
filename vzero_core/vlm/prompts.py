"""Prompt templates for the student and the two teacher replays, and their encoding.

A template is text with ``{question}`` and image placeholders: ``<image>`` (the full image) and, for
the teacher, ``<crop>`` (the positive crop, or the negative view in the negative replay). The student
sees only the full image; both teacher prompts carry the same text, the full image first and the
crop after it, so the only difference between the positive and negative replay is the crop's pixels.
Student and teacher messages are rendered by one chat template (the models share a tokenizer).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vzero_core.prompt_text import (
    CROP_TAG,
    DEFAULT_STUDENT_TEMPLATE,
    DEFAULT_TEACHER_TEMPLATE,
    IMAGE_TAG,
    fill_question,
)

__all__ = [
    "CROP_TAG",
    "DEFAULT_STUDENT_TEMPLATE",
    "DEFAULT_TEACHER_TEMPLATE",
    "IMAGE_TAG",
    "PromptTemplates",
    "TemplateError",
    "build_messages",
    "encode_prompts",
    "render_prompt",
]
_TAGS = re.compile(r"(<image>|<crop>)")


class TemplateError(ValueError):
    """A prompt template with missing or misplaced placeholders."""


@dataclass(frozen=True)
class PromptTemplates:
    """The student and teacher templates plus an optional system message; validated on creation."""

    student: str = DEFAULT_STUDENT_TEMPLATE
    teacher: str = DEFAULT_TEACHER_TEMPLATE
    system: str | None = None

    def __post_init__(self) -> None:
        for name, template in (("student", self.student), ("teacher", self.teacher)):
            if "{question}" not in template:
                raise TemplateError(f"{name} template must contain {{question}}: {template!r}")
            if template.count(IMAGE_TAG) != 1:
                raise TemplateError(f"{name} template must contain {IMAGE_TAG} exactly once: {template!r}")
        if CROP_TAG in self.student:
            raise TemplateError(
                f"student template must not contain {CROP_TAG}: the student sees only the full image"
            )
        if self.teacher.count(CROP_TAG) != 1 or self.teacher.index(CROP_TAG) < self.teacher.index(IMAGE_TAG):
            raise TemplateError(f"teacher template needs one {CROP_TAG} after {IMAGE_TAG}: {self.teacher!r}")


def build_messages(template: str, question: str, system: str | None = None) -> list[dict[str, Any]]:
    """Chat messages for ``template`` with the question filled in; image tags become image parts."""
    content: list[dict[str, Any]] = []
    for part in _TAGS.split(fill_question(template, question)):
        if part in (IMAGE_TAG, CROP_TAG):
            content.append({"type": "image"})
        elif part:
            content.append({"type": "text", "text": part})
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": [{"type": "text", "text": system}]})
    messages.append({"role": "user", "content": content})
    return messages


def render_prompt(tokenizer: Any, messages: list[dict[str, Any]]) -> str:
    """The prompt string up to the assistant turn, with thinking disabled where a template supports it."""
    return tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=False, enable_thinking=False
    )


def encode_prompts(
    processor: Any,
    prompts: Sequence[str],
    images: Sequence[Sequence[Any]],
    *,
    nested_images: bool,
    **processor_kwargs: Any,
) -> Any:
    """Tokenize prompts with their images (one list of PIL images per prompt, in template order).

    Qwen processors take a flat image list, Idefics3/SmolVLM one list per prompt; ``nested_images``
    picks the form. Returns the processor's batch (left-padded when the tokenizer pads left);
    ``processor_kwargs`` go to the processor (e.g. ``add_special_tokens=False`` for a continuation).
    """
    if len(prompts) != len(images):
        raise ValueError(f"{len(prompts)} prompts but {len(images)} image lists")
    image_arg = [list(imgs) for imgs in images] if nested_images else [img for imgs in images for img in imgs]
    return processor(
        images=image_arg, text=list(prompts), padding=True, return_tensors="pt", **processor_kwargs
    )
