"""The sandbox's arms: variants of one ``train:`` section, and the records each one trains on.

- ``base``: the base student, no on-policy distillation;
- ``sft``: labelled SFT of the base student on the same OPD scenes, batch and steps (it reads the
  answers: the ceiling the OPD arms are measured against, not a V-Zero arm);
- ``plain``: OPD with the gate off (w = 1; no negative replay);
- ``paper_k1``: the paper's update as far as this scale allows: the sampled-token (k1) estimate in
  the PPO surrogate, no baseline, a constant learning rate, G = 4 over two mini-batches, the gate on
  with the distractor negative (docs/sandbox.md names what differs from the paper's run);
- ``gate_<strategy>``: the V-Zero gate with that stored negative view (``gate_downsampled_distractor``
  is the paper's default);
- ``random_crop``: the paper's ablation, random windows as both positive and negative views;
- ``self_frozen`` / ``self_ema``: the asymmetric-view family where the student is its own teacher
  with the crop (frozen at the base student, or an EMA of it): the Vision-OPD setting, gate off;
- ``degraded_student``: the external teacher sees the clean full image and the crop, the student a
  degraded full image (half resolution, bicubic, back to full size), gate off.

The arms read OPD records through :func:`opd_records`, which keeps only what on-policy training may
see: the question and its options (they are not answers; training asks the question as evaluation
does), the full image, a positive and a negative view. The answer is never copied, so no arm can
read it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from vzero_train.data import RecordSource

BASE = "base"
PLAIN = "plain"
RANDOM_CROP = "random_crop"
GATE_PREFIX = "gate_"
RANDOM_POSITIVE = "random_positive"
RANDOM_WINDOW = "random_window"
SFT = "sft"
PAPER_K1 = "paper_k1"
SELF_FROZEN = "self_frozen"
SELF_EMA = "self_ema"
DEGRADED_STUDENT = "degraded_student"


@dataclass(frozen=True)
class OPDRecord:
    """A training record without an answer (the trainer's ``RecordLike``)."""

    sample_id: str
    question: str
    image: Any
    positive: Any
    negatives: dict[str, Any]
    eval_options: tuple[str, ...] | None = None
    student_image: Any = None


@dataclass(frozen=True)
class Arm:
    name: str
    overrides: dict[str, Any] | None  # train: overrides; None for the base student (no OPD)
    strategies: tuple[str, ...] = ()  # stored negative strategies the arm reads
    random_crop: bool = False
    degraded_student: bool = False
    self_teacher: bool = False  # the teacher is the student itself (overrides carry teacher:)
    sft: bool = False  # labelled SFT on the same scenes (reads answers): the ceiling, not OPD


def arm(name: str, strategies: Iterable[str]) -> Arm:
    """The arm called ``name``; ``strategies`` are the negative strategies the store holds."""
    known = sorted(strategies)
    if name == BASE:
        return Arm(name, None)
    if name == PLAIN:
        return Arm(name, {"gate.enabled": False, "data.negative": known[0]}, (known[0],))
    if name == SFT:
        return Arm(name, {}, (), sft=True)
    if name == PAPER_K1:
        if "distractor" not in known:
            raise ValueError(f"arm {name} needs the distractor view in the store")
        overrides = {
            "gate.enabled": True,
            "data.negative": "distractor",
            "loss.estimator": "k1",
            "rollout.group_size": 4,
            "num_mini_batches": 2,
            "optim.warmup_steps": 0,
            "optim.schedule": "constant",
        }
        return Arm(name, overrides, ("distractor",))
    if name in (SELF_FROZEN, SELF_EMA):
        teacher = {"kind": "frozen_self"} if name == SELF_FROZEN else {"kind": "ema", "decay": 0.95}
        overrides = {"gate.enabled": False, "data.negative": known[0], "teacher": teacher}
        return Arm(name, overrides, (known[0],), self_teacher=True)
    if name == DEGRADED_STUDENT:
        overrides = {"gate.enabled": False, "data.negative": known[0]}
        return Arm(name, overrides, (known[0],), degraded_student=True)
    if name == RANDOM_CROP:
        if RANDOM_POSITIVE not in known:
            raise ValueError(f"arm {name} needs the {RANDOM_POSITIVE} view in the store")
        return Arm(name, {"gate.enabled": True, "data.negative": RANDOM_WINDOW}, (RANDOM_POSITIVE,), True)
    if name.startswith(GATE_PREFIX) and name[len(GATE_PREFIX) :] in known:
        strategy = name[len(GATE_PREFIX) :]
        return Arm(name, {"gate.enabled": True, "data.negative": strategy}, (strategy,))
    names = [BASE, SFT, PLAIN, PAPER_K1, RANDOM_CROP, SELF_FROZEN, SELF_EMA, DEGRADED_STUDENT]
    names += [GATE_PREFIX + s for s in known]
    raise ValueError(f"unknown arm {name!r}; known: {', '.join(names)}")


def random_window(image: Any, like: Any, rng: np.random.Generator) -> Any:
    """A window of ``like``'s pixel size anywhere in ``image`` (it may cover the target)."""
    from vzero_data.views import sample_window

    w, h = min(like.width, image.width), min(like.height, image.height)
    box = sample_window(image.width, image.height, w, h, rng)
    return image.crop(tuple(int(v) for v in box.round_out()))


def degrade(image: Any) -> Any:
    """``image`` at half its width and height, bicubic, and back to its size: a blurred full image."""
    from PIL import Image

    small = image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.Resampling.BICUBIC)
    return small.resize(image.size, Image.Resampling.BICUBIC)


def to_opd_record(record: Any, a: Arm, seed: int) -> OPDRecord:
    """What arm ``a`` trains on from a store record: never its answer."""
    question, options = record.question, record.eval_options
    student_image = degrade(record.image) if a.degraded_student else None
    if not a.random_crop:
        return OPDRecord(
            record.sample_id,
            question,
            record.image,
            record.positive,
            dict(record.negatives),
            options,
            student_image,
        )
    positive = record.negatives[RANDOM_POSITIVE]
    key = int(hashlib.sha256(record.sample_id.encode()).hexdigest()[:12], 16)
    rng = np.random.default_rng([seed, key])
    return OPDRecord(
        record.sample_id,
        question,
        record.image,
        positive,
        {RANDOM_WINDOW: random_window(record.image, positive, rng)},
        options,
    )


def opd_records(source: RecordSource, a: Arm, seed: int) -> RecordSource:
    """``source``'s records as arm ``a`` sees them (a re-iterable source, as the trainer wants)."""

    def records() -> Iterator[OPDRecord]:
        for record in source():
            yield to_opd_record(record, a, seed)

    return records
