"""Score given answers under several contexts at once: the teacher's view check and the evidence audit.

For each item (a question with its full image, positive crop and negative views) and each of its
candidate answers (every option of a multiple-choice question, or one reference answer), the
teacher-forced log-prob of every answer token, end of turn included, under each context:

- ``positive``: the teacher template, full image then the positive crop (V-Zero's teacher context);
- one context per negative view, named as the caller names it: the same text, the view in the
  crop's place;
- ``full_image``: the student template, full image alone;
- ``crop_only``: the student template with the positive crop as its only image;
- ``text_only``: the student template without its image: the question alone.

The positive and negative contexts share everything before the crop (system, full image, question):
they run through the trainer's shared-prefix replay (:mod:`vzero_core.vlm.prefix_replay`), the
prefix once per item and every (view, candidate) row branched from its cache. The one-image contexts
are preprocessed and their images encoded once (:mod:`vzero_core.vlm.vision_cache`), then every
candidate row is scored from those features. Nothing here reads a label: callers choose the
candidates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from vzero_core.prompt_text import IMAGE_TAG
from vzero_core.vlm.prompts import PromptTemplates, build_messages, encode_prompts, render_prompt

POSITIVE = "positive"
FULL_IMAGE = "full_image"
CROP_ONLY = "crop_only"
TEXT_ONLY = "text_only"
SINGLE_CONTEXTS = (FULL_IMAGE, CROP_ONLY, TEXT_ONLY)
RESERVED = (POSITIVE, *SINGLE_CONTEXTS)


def answer_token_ids(tokenizer: Any, answers: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids (B, T) of each answer followed by the end-of-turn token, and their mask."""
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no end-of-sequence token to close an answer with")
    rows = [
        list(tokenizer(a, add_special_tokens=False)["input_ids"]) + [tokenizer.eos_token_id] for a in answers
    ]
    width = max((len(r) for r in rows), default=0)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.float32)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1.0
    return ids, mask


def answer_totals(
    vlm: Any, prompts: Sequence[str], images: Sequence[Sequence[Any]], answers: Sequence[str]
) -> torch.Tensor:
    """Summed log-prob (N,) of each ``answers[i]`` (plus end of turn) after ``prompts[i]`` with the
    images ``images[i]``, in one batched teacher-forced forward; no gradient. Multiple choice by
    likelihood (evaluation, the sandbox's teacher check) scores each option as one such row."""
    from vzero_core.vlm.replay import response_logprobs

    enc = encode_prompts(
        vlm.processor, list(prompts), [list(i) for i in images], nested_images=vlm.nested_images
    ).to(_device(vlm))
    ids, mask = answer_token_ids(vlm.tokenizer, answers)
    with torch.no_grad():
        logprobs = response_logprobs(vlm.model, enc, ids.to(enc["input_ids"].device))
    return (logprobs.float().cpu() * mask).sum(dim=1)


@dataclass(frozen=True)
class ScoringItem:
    """One question to score: ``question`` fills the templates' ``{question}`` (render it with
    :func:`vzero_core.prompt_text.sample_question`), ``negatives`` are views by name, ``candidates``
    the answers scored under every context."""

    question: str
    image: Any
    crop: Any
    negatives: Mapping[str, Any]
    candidates: tuple[str, ...]


@dataclass
class CandidateScores:
    """One item's scores: per context, (K, T) log-probs of each candidate's tokens (0 past its end),
    and the (K, T) mask of real tokens."""

    token_logprobs: dict[str, torch.Tensor]
    mask: torch.Tensor

    def totals(self, context: str) -> torch.Tensor:
        """Summed log-prob (K,) of each whole candidate under ``context``."""
        return (self.token_logprobs[context] * self.mask).sum(dim=1)


def text_only_template(template: str) -> str:
    """``template`` without its image placeholder (and the blank line it leaves)."""
    return template.replace(IMAGE_TAG, "").strip() or "{question}"


def _render(vlm: Any, template: str, questions: Iterable[str], system: str | None) -> list[str]:
    return [render_prompt(vlm.tokenizer, build_messages(template, q, system)) for q in questions]


def _device(vlm: Any) -> torch.device:
    return next(vlm.model.parameters()).device


def score_candidates(
    vlm: Any,
    items: Sequence[ScoringItem],
    *,
    templates: PromptTemplates | None = None,
    contexts: Sequence[str] = SINGLE_CONTEXTS,
    micro_batch_size: int = 16,
) -> list[CandidateScores]:
    """Teacher-forced scores of every item's candidates under the positive context, each of its
    negatives, and ``contexts`` (any of ``full_image``, ``crop_only``, ``text_only``); no gradient.

    ``vlm`` is a :class:`vzero_core.vlm.models.LoadedVLM`; ``micro_batch_size`` rows per forward.
    """
    templates = templates or PromptTemplates()
    unknown = [c for c in contexts if c not in SINGLE_CONTEXTS]
    if unknown:
        raise ValueError(f"unknown contexts {unknown}; known: {', '.join(SINGLE_CONTEXTS)}")
    if not items:
        return []
    for item in items:
        clash = [name for name in item.negatives if name in RESERVED]
        if clash:
            raise ValueError(f"a negative view may not be named {clash[0]!r}: it names another context")
        if not item.candidates:
            raise ValueError("every item needs at least one candidate answer")
    ids, mask, prompt_index = _candidate_rows(vlm.tokenizer, items)
    offsets = [0]
    for item in items:
        offsets.append(offsets[-1] + len(item.candidates))
    # the (N, T) log-probs of every row, per context; a negative's rows are zero for items without it
    per_context: dict[str, torch.Tensor] = {}
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(tuple(sorted(item.negatives)), []).append(i)
    for names, members in groups.items():  # one shared-prefix replay per set of negatives
        rows = [r for i in members for r in range(offsets[i], offsets[i + 1])]
        sub_index = [j for j, i in enumerate(members) for _ in items[i].candidates]
        scored = _teacher_views(
            vlm, [items[i] for i in members], names, templates, ids[rows], sub_index, micro_batch_size
        )
        for name, values in scored.items():
            per_context.setdefault(name, torch.zeros(ids.shape, dtype=torch.float32))[rows] = values
    if FULL_IMAGE in contexts or CROP_ONLY in contexts:
        per_context.update(
            _one_image_contexts(vlm, items, contexts, templates, ids, prompt_index, micro_batch_size)
        )
    if TEXT_ONLY in contexts:
        per_context[TEXT_ONLY] = _text_only(vlm, items, templates, ids, prompt_index, micro_batch_size)
    results = []
    for i, item in enumerate(items):
        lo, hi = offsets[i], offsets[i + 1]
        m = mask[lo:hi, : int(mask[lo:hi].sum(dim=1).max())]
        names = (POSITIVE, *item.negatives, *(c for c in SINGLE_CONTEXTS if c in per_context))
        results.append(CandidateScores({c: per_context[c][lo:hi, : m.shape[1]] * m for c in names}, m))
    return results


def _candidate_rows(
    tokenizer: Any, items: Sequence[ScoringItem]
) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Every item's candidates as rows of one right-padded (N, T) id tensor, its mask, and the item
    index of each row."""
    parts = [answer_token_ids(tokenizer, list(item.candidates)) for item in items]
    width = max(p[0].shape[1] for p in parts)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ids = torch.cat([torch.nn.functional.pad(p[0], (0, width - p[0].shape[1]), value=pad) for p in parts])
    mask = torch.cat([torch.nn.functional.pad(p[1], (0, width - p[1].shape[1])) for p in parts])
    index = [i for i, item in enumerate(items) for _ in item.candidates]
    return ids, mask, index


def _teacher_views(
    vlm: Any,
    items: Sequence[ScoringItem],
    names: tuple[str, ...],
    templates: PromptTemplates,
    ids: torch.Tensor,
    prompt_index: Sequence[int],
    micro_batch_size: int,
) -> dict[str, torch.Tensor]:
    """The positive and every negative context of ``items`` (which share the negatives ``names``):
    their teacher prompts encoded once (prefix + one suffix per view), rows scored by the shared-
    prefix replay. Returns ``{view: (N, T) log-probs}`` for the rows ``ids``."""
    from vzero_core.vlm.prefix_replay import encode_teacher_prompts, shared_prefix_logprobs

    prompts = _render(vlm, templates.teacher, (item.question for item in items), templates.system)
    views = {POSITIVE: [item.crop for item in items]}
    views.update({name: [item.negatives[name] for item in items] for name in names})
    teacher = encode_teacher_prompts(
        vlm.model,
        vlm.processor,
        prompts,
        [item.image for item in items],
        views,
        nested_images=vlm.nested_images,
        device=_device(vlm),
    )
    pad = vlm.tokenizer.pad_token_id or 0
    return shared_prefix_logprobs(
        vlm.model, teacher, prompt_index, ids, micro_batch_size=micro_batch_size, pad_token_id=pad
    )


def _one_image_contexts(
    vlm: Any,
    items: Sequence[ScoringItem],
    contexts: Sequence[str],
    templates: PromptTemplates,
    ids: torch.Tensor,
    prompt_index: Sequence[int],
    micro_batch_size: int,
) -> dict[str, torch.Tensor]:
    """``full_image`` and ``crop_only``: one student prompt per item, each image encoded once."""
    from vzero_core.vlm.replay import encoded_logprobs
    from vzero_core.vlm.vision_cache import compute_features, encode_once

    wanted = [c for c in (FULL_IMAGE, CROP_ONLY) if c in contexts]
    prompts = _render(vlm, templates.student, (item.question for item in items), templates.system)
    images = {FULL_IMAGE: [item.image for item in items], CROP_ONLY: [item.crop for item in items]}
    encoded = encode_once(
        vlm.processor,
        prompts * len(wanted),
        [im for c in wanted for im in images[c]],
        nested_images=vlm.nested_images,
        device=_device(vlm),
    )
    encoded = compute_features(vlm.model, encoded)
    n = len(items)
    index = [k * n + p for k in range(len(wanted)) for p in prompt_index]
    lp = encoded_logprobs(
        vlm.model, encoded, index, ids.repeat(len(wanted), 1), micro_batch_size=micro_batch_size
    )
    rows = len(prompt_index)
    return {c: lp[k * rows : (k + 1) * rows] for k, c in enumerate(wanted)}


def _text_only(
    vlm: Any,
    items: Sequence[ScoringItem],
    templates: PromptTemplates,
    ids: torch.Tensor,
    prompt_index: Sequence[int],
    micro_batch_size: int,
) -> torch.Tensor:
    """``text_only``: the student template without its image, tokenized once per item."""
    from vzero_core.vlm.replay import response_logprobs

    prompts = _render(
        vlm, text_only_template(templates.student), (item.question for item in items), templates.system
    )
    device = _device(vlm)
    text = vlm.processor(text=prompts, padding=True, return_tensors="pt")
    text = {k: v.to(device) for k, v in text.items() if isinstance(v, torch.Tensor)}
    out = torch.zeros(ids.shape, dtype=torch.float32)
    with torch.no_grad():
        for start in range(0, len(prompt_index), micro_batch_size):
            rows = list(prompt_index[start : start + micro_batch_size])
            inputs = {k: v[rows] for k, v in text.items()}
            first = int(inputs["attention_mask"].any(0).float().argmax())  # drop all-padding columns
            inputs = {k: v[:, first:] for k, v in inputs.items()}
            lp = response_logprobs(vlm.model, inputs, ids[start : start + len(rows)].to(device))
            out[start : start + len(rows)] = lp.float().cpu()
    return out


def greedy_answers(
    vlm: Any,
    items: Sequence[ScoringItem],
    *,
    templates: PromptTemplates | None = None,
    max_new_tokens: int = 32,
) -> list[str]:
    """The teacher's own greedy answer to each item in the positive context (full image + crop):
    the reference of a label-free audit of an open question."""
    templates = templates or PromptTemplates()
    if not items:
        return []
    prompts = _render(vlm, templates.teacher, (item.question for item in items), templates.system)
    enc = encode_prompts(
        vlm.processor, prompts, [[item.image, item.crop] for item in items], nested_images=vlm.nested_images
    ).to(_device(vlm))
    pad = vlm.tokenizer.pad_token_id
    with torch.no_grad():
        out = vlm.model.generate(
            **enc,
            do_sample=False,
            max_new_tokens=max_new_tokens,
            pad_token_id=pad if pad is not None else vlm.tokenizer.eos_token_id,
        )
    new = out[:, enc["input_ids"].shape[1] :]
    return [text.strip() for text in vlm.tokenizer.batch_decode(new, skip_special_tokens=True)]
