"""One V-Zero step up to the advantages: rollout -> positive and negative replays -> gate -> advantages.

:func:`gated_step` is the method's data flow in one function, with no optimizer and no
``accelerate``: the models, the rollout backend and the contexts to run them in are arguments, so a
test drives it with plain models and a teacher whose preferences it controls. The PPO update that
consumes its :class:`StepResult` is :mod:`vzero_train.update`; the loop around both is
:mod:`vzero_train.trainer`.

With ``step_inputs: shared`` (the default) each prompt is preprocessed and its image encoded once
for the whole step (:mod:`vzero_core.vlm.vision_cache`), and the teacher's two replays branch one run
of its common prefix (:mod:`vzero_core.vlm.prefix_replay`); ``per_row`` is the straightforward path,
every row encoded and replayed in full. Both give the same numbers within float tolerance.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from vzero_core.vlm.models import LoadedVLM
from vzero_core.vlm.prefix_replay import encode_teacher_prompts, shared_prefix_logprobs
from vzero_core.vlm.prompts import PromptTemplates, build_messages, render_prompt
from vzero_core.vlm.replay import encoded_logprobs, replay_logprobs
from vzero_core.vlm.vision_cache import EncodedPrompts, compute_features, encode_once
from vzero_train.config import GateConfig, TrainConfig
from vzero_train.data import RELATIVE_NEGATIVE, PromptItem
from vzero_train.gating import evidence_weights, gate_metrics
from vzero_train.losses import opd_token_advantages, with_group_baseline
from vzero_train.rollout import Rollout, RolloutBackend
from vzero_train.teacher import Teacher

# encode: the step's shared preprocessing and vision features (0 on the per_row path);
# replay: the teacher's replays, both views
TIMERS = ("encode", "rollout", "replay", "old_logprobs", "update")

ContextFactory = Callable[[], contextlib.AbstractContextManager]


@dataclass
class StepResult:
    """Everything the update needs, one row per sampled response (prompt-major, G rows per prompt).

    ``prompts`` and ``images`` are the student's rendered prompt and image list of each row;
    ``l_minus`` is None when the gate is off (no negative replay), and then ``weights`` are all 1.
    ``encoded`` holds the step's distinct student prompts, encoded once (None on the per_row path).
    ``teacher_topk`` is ``(ids, logprobs)`` (N, T, k) of the positive teacher's most likely tokens at
    every response position when the loss needs its distribution (``loss.estimator`` topk or full).
    """

    rollout: Rollout
    prompts: list[str]
    images: list[list[Any]]
    old_logprobs: torch.Tensor
    l_plus: torch.Tensor
    l_minus: torch.Tensor | None
    weights: torch.Tensor
    advantages: torch.Tensor
    times: dict[str, float] = field(default_factory=dict)
    encoded: EncodedPrompts | None = None
    teacher_topk: tuple[torch.Tensor, torch.Tensor] | None = None


def render_prompts(
    tokenizer: Any, template: str, items: Sequence[PromptItem], system: str | None
) -> list[str]:
    """Each item's question in ``template``, rendered by the chat template up to the assistant turn."""
    return [render_prompt(tokenizer, build_messages(template, it.question, system)) for it in items]


def teacher_views(items: Sequence[PromptItem], view: str) -> list[list[Any]]:
    """The teacher's images per row: the full image first, then the ``positive`` or ``negative`` view.

    An item with the ``relative`` negative (no stored view) shows the negative replay every teacher
    image downsampled 2x, bicubic: the full image and the positive crop.
    """
    if view == "positive":
        return [[it.image, it.positive] for it in items]
    if view != "negative":
        raise ValueError(f"view must be 'positive' or 'negative', got {view!r}")
    return [
        [downsample_2x(it.image), downsample_2x(it.positive)]
        if it.negative_strategy == RELATIVE_NEGATIVE
        else [it.image, it.negative]
        for it in items
    ]


def downsample_2x(image: Any) -> Any:
    """``image`` at half its width and height (at least 1 pixel each), bicubic."""
    from PIL import Image

    size = (max(1, image.width // 2), max(1, image.height // 2))
    return image.resize(size, Image.Resampling.BICUBIC)


def gate_weights(
    l_plus: torch.Tensor, l_minus: torch.Tensor | None, rollout: Rollout, gate: GateConfig
) -> torch.Tensor:
    """The gate's per-sequence weights; all 1 (plain OPD) without a negative replay."""
    if l_minus is None:
        return torch.ones(len(rollout), dtype=torch.float32)
    return evidence_weights(
        l_plus,
        l_minus,
        rollout.response_mask,
        rollout.group_ids,
        gamma=gate.gamma,
        alpha=gate.alpha,
        w_min=gate.w_min,
        w_max=gate.w_max,
        eps=gate.eps,
    )


@contextlib.contextmanager
def _timed(times: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    times[name] = time.perf_counter() - t0


def gated_step(
    items: Sequence[PromptItem],
    *,
    student: LoadedVLM,
    teacher: Teacher,
    rollout_backend: RolloutBackend,
    templates: PromptTemplates,
    config: TrainConfig,
    seed: int,
    scorer: Any = None,
    device: torch.device | str | None = None,
    autocast: ContextFactory = contextlib.nullcontext,
    sampling_context: ContextFactory = contextlib.nullcontext,
) -> StepResult:
    """Sample G responses per item, replay them under the teacher, gate them, and return advantages.

    ``student.model`` samples; ``scorer`` (default the same model; the DDP wrapper in training)
    computes the student's old log-probs. ``autocast`` wraps the rollout and the teacher replays,
    ``sampling_context`` the rollout (FSDP gathers full weights there). Nothing here needs gradients.
    """
    times = dict.fromkeys(TIMERS, 0.0)
    student_prompts = render_prompts(student.tokenizer, templates.student, items, templates.system)
    teacher_prompts = render_prompts(student.tokenizer, templates.teacher, items, templates.system)
    replay = dict(micro_batch_size=config.replay_batch_size, chunk_size=config.logprob_chunk_size)
    scorer = scorer if scorer is not None else student.model
    shared = config.step_inputs == "shared"
    model_device = device if device is not None else next(student.model.parameters()).device

    encoded = None
    if shared:  # each prompt's image preprocessed and through the student's vision tower once
        with _timed(times, "encode"), sampling_context(), autocast():
            student.model.eval()
            encoded = compute_features(
                student.model,
                encode_once(
                    student.processor,
                    student_prompts,
                    [it.student_image for it in items],
                    nested_images=student.nested_images,
                    device=model_device,
                ),
                batch_size=config.replay_batch_size,
            )

    with _timed(times, "rollout"):  # 1. the student samples G responses per prompt on the full image
        student.model.eval()
        with sampling_context(), autocast():
            rollout = rollout_backend.generate(
                student.model,
                student_prompts,
                [[it.student_image] for it in items],
                [it.index for it in items],
                seed=seed,
                encoded=encoded,
            )
    rows = [items[i] for i in rollout.prompt_index]
    row_teacher = [teacher_prompts[i] for i in rollout.prompt_index]

    def teacher_replay(views: list[list[Any]], topk: int | None = None) -> Any:  # 2. teacher forcing
        with autocast():
            return replay_logprobs(
                teacher.model, teacher.processor, row_teacher, views, rollout.response_ids,
                nested_images=teacher.nested_images, topk=topk, **replay,
            )  # fmt: skip

    l_minus, teacher_topk, topk = None, None, config.loss.teacher_topk
    with _timed(times, "replay"):
        if shared:  # the prefix (system, full image, question) once per prompt, views batched
            with autocast():
                replays = shared_replays(teacher, items, teacher_prompts, rollout, config)
            l_plus, l_minus = replays["positive"], replays.get("negative")
            if topk:
                teacher_topk = (replays["positive:topk_ids"], replays["positive:topk_logprobs"])
        else:
            positive = teacher_replay(teacher_views(rows, "positive"), topk)
            l_plus, teacher_topk = (positive[0], positive[1:]) if topk else (positive, None)
            if config.gate.enabled:
                l_minus = teacher_replay(teacher_views(rows, "negative"))

    row_prompts = [student_prompts[i] for i in rollout.prompt_index]
    row_images = [[it.student_image] for it in rows]
    with _timed(times, "old_logprobs"):  # the student's own log-probs, before the update
        if encoded is not None:
            old_logprobs = encoded_logprobs(
                scorer, encoded, rollout.prompt_index, rollout.response_ids, **replay
            )
        else:
            old_logprobs = replay_logprobs(
                scorer, student.processor, row_prompts, row_images, rollout.response_ids,
                nested_images=student.nested_images, device=device, **replay,
            )  # fmt: skip

    weights = gate_weights(l_plus, l_minus, rollout, config.gate)  # 3. one weight per sequence
    # 4. A[k] = -w * clamp(log p_student - l_plus): the reverse KL to the POSITIVE teacher only
    advantages = opd_token_advantages(
        old_logprobs, l_plus, weights, rollout.response_mask, clamp=config.loss.clamp
    )
    advantages = with_group_baseline(
        advantages, rollout.response_mask, rollout.group_ids, config.loss.baseline
    )
    return StepResult(
        rollout, row_prompts, row_images, old_logprobs, l_plus, l_minus, weights, advantages, times, encoded,
        teacher_topk,
    )  # fmt: skip


def shared_replays(
    teacher: Teacher,
    items: Sequence[PromptItem],
    teacher_prompts: Sequence[str],
    rollout: Rollout,
    config: TrainConfig,
) -> dict[str, torch.Tensor]:
    """The teacher's replays (``positive``, and ``negative`` with the gate on) over its prefix run once
    per prompt. Views whose full image is the same object share one prefix and one batched forward;
    the ``relative`` negative, which downsamples the full image too, gets a prefix of its own."""
    views = {"positive": teacher_views(items, "positive")}
    if config.gate.enabled:
        views["negative"] = teacher_views(items, "negative")
    same_full = all(a[0] is b[0] for a, b in zip(views["positive"], views.get("negative", []), strict=False))
    groups = [list(views)] if same_full else [[name] for name in views]
    out: dict[str, torch.Tensor] = {}
    for names in groups:
        encoded = encode_teacher_prompts(
            teacher.model, teacher.processor, teacher_prompts, [pair[0] for pair in views[names[0]]],
            {name: [pair[1] for pair in views[name]] for name in names},
            nested_images=teacher.nested_images, device=next(teacher.model.parameters()).device,
            batch_size=config.replay_batch_size,
        )  # fmt: skip
        out.update(
            shared_prefix_logprobs(
                teacher.model,
                encoded,
                rollout.prompt_index,
                rollout.response_ids,
                micro_batch_size=config.replay_batch_size,
                chunk_size=config.logprob_chunk_size,
                pad_token_id=_pad_id(teacher.processor.tokenizer),
                topk=config.loss.teacher_topk,
            )  # fmt: skip
        )
    return out


def _pad_id(tokenizer: Any) -> int:
    """The id right-padding the teacher's continuation rows (never scored)."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0


def step_metrics(result: StepResult, config: TrainConfig) -> dict[str, float]:
    """What the step did: the reverse KL to the positive teacher, log-probs, response length, and
    (gate on) the gate's own metrics."""
    m = result.rollout.response_mask.bool()
    old, l_plus = result.old_logprobs, result.l_plus
    metrics = {
        "opd/reverse_kl_k1": (old - l_plus)[m].mean().item(),
        "opd/teacher_logprob": l_plus[m].mean().item(),
        "opd/student_logprob": old[m].mean().item(),
        "rollout/response_length": result.rollout.lengths.float().mean().item(),
    }
    if result.l_minus is not None:
        gate = config.gate
        metrics.update(
            gate_metrics(
                l_plus,
                result.l_minus,
                result.rollout.response_mask,
                result.weights,
                gamma=gate.gamma,
                w_min=gate.w_min,
                eps=gate.eps,
            )  # fmt: skip
        )
    return metrics
