"""Audit a chunk of stored records with a loaded teacher: what a worker process or Ray actor runs.

Each record becomes a :class:`vzero_core.vlm.option_scoring.ScoringItem` (the question as every model
is shown it, options in the order fixed by the sample id; its full image, positive crop and
negatives) with its candidates: every option (text or letter) of a multiple-choice question, or the
one reference answer of an open question. The whole chunk is scored in one call, then each sample's
verdict is drawn (:mod:`vzero_data.audit.verdicts`).

The reference answer: in ``labelled`` mode the sample's answer; in ``label_free`` mode the teacher's
own answer with the positive crop (the most likely option, or its greedy answer to an open
question), and the answer column is never read; ``auto`` is labelled where a sample has an answer.
A record that cannot be audited (an image that does not decode, a label that is not an option, no
label in labelled mode) gives a failure with its reason instead of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vzero_core.choices import LETTERS
from vzero_core.prompt_text import sample_question
from vzero_core.vlm.prompts import PromptTemplates
from vzero_data.audit.config import AuditConfig
from vzero_data.audit.verdicts import (
    LABEL_FREE,
    LABELLED,
    Judging,
    ScoredViews,
    label_free_reference,
    sample_verdict,
)


@dataclass(frozen=True)
class AuditSettings:
    """What scoring needs of an :class:`AuditConfig`, small and picklable (sent to workers)."""

    teacher: str
    device: str
    dtype: str
    templates: PromptTemplates
    mode: str
    answer: str
    max_new_tokens: int
    micro_batch_size: int
    judging: Judging

    @classmethod
    def from_config(cls, config: AuditConfig) -> AuditSettings:
        p, t, g, r, ex = config.prompts, config.thresholds, config.gate, config.reject, config.execution
        return cls(
            teacher=config.teacher,
            device=ex.device,
            dtype=ex.dtype,
            templates=PromptTemplates(p.student, p.teacher, p.system),
            mode=config.mode,
            answer=config.answer,
            max_new_tokens=config.max_new_tokens,
            micro_batch_size=ex.micro_batch_size,
            judging=Judging(
                min_gap=t.min_gap,
                min_score_std=t.min_score_std,
                gamma=g.gamma,
                alpha=g.alpha,
                w_min=g.w_min,
                w_max=g.w_max,
                eps=g.eps,
                reject_negatives=r.negatives,
                reject_no_gate_signal=r.no_gate_signal,
            ),
        )


@dataclass
class SampleAudit:
    """One sample's outcome: its rows and the rejects its verdict records, or a failure ``(reason,
    detail)``."""

    sample_id: str
    config_hash: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[tuple[str, str]] = field(default_factory=list)
    failure: tuple[str, str] | None = None


@dataclass
class _Prepared:
    raw: Any
    item: Any = None
    mode: str = LABELLED
    multiple_choice: bool = False
    reference_index: int | None = None
    failure: tuple[str, str] | None = None


class AuditInputError(ValueError):
    """A record that cannot be audited; ``reason`` is the reject reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def reference(sample: dict[str, Any], mode: str, answer_form: str) -> tuple[str, tuple[str, ...], int | None]:
    """``(mode used, candidates, reference index)`` of a samples row; the index is None when the
    teacher chooses it (label-free). In label-free mode the row's answer is never read.

    Options are scored in the order every model is shown them (fixed by the sample id); a stored
    label (an option's text or its letter in the stored order) is mapped into that order, as
    evaluation maps it."""
    from vzero_core.choices import answer_index, shuffled

    sid = sample["sample_id"]
    stored = [str(o) for o in sample.get("options") or ()]
    label = None if mode == LABEL_FREE else sample.get("answer")
    has_label = label is not None and str(label).strip() != ""
    used = (LABELLED if has_label else LABEL_FREE) if mode == "auto" else mode
    if used == LABELLED and not has_label:
        raise AuditInputError("no_label", f"sample {sid}: no answer to audit against (use mode label_free)")
    if not stored:
        return (used, (), None) if used == LABEL_FREE else (used, (str(label).strip(),), 0)
    at = answer_index(str(label), stored) if used == LABELLED else None
    if used == LABELLED and at is None:
        raise AuditInputError(
            "bad_label",
            f"sample {sid}: answer {label!r} is neither an option letter nor one of the options {stored}",
        )
    shown, letter = shuffled(stored, at, sid)
    candidates = shown if answer_form == "option" else tuple(LETTERS[: len(shown)])
    return used, candidates, (LETTERS.index(letter) if letter is not None else None)


def prepare(raw: Any, settings: AuditSettings) -> _Prepared:
    """Decode a raw record and choose its candidates, or say why it cannot be audited."""
    from vzero_core.image_io import ImageDecodeError, decode_image
    from vzero_core.vlm.option_scoring import ScoringItem

    sample = raw.sample
    sid = sample["sample_id"]
    out = _Prepared(raw)
    try:
        out.mode, candidates, out.reference_index = reference(sample, settings.mode, settings.answer)
        out.multiple_choice = bool(sample.get("options"))
        where = f"sample {sid}"
        images = [
            decode_image(raw.image_bytes, f"{where}: image"),
            decode_image(raw.positive_bytes, f"{where}: positive view"),
        ]
        negatives = {s: decode_image(b, f"{where}: {s} view") for s, b in raw.negative_bytes.items()}
    except AuditInputError as exc:
        out.failure = (exc.reason, str(exc))
        return out
    except ImageDecodeError as exc:
        out.failure = ("decode_error", str(exc))
        return out
    question = sample_question(sample["question"], sample.get("options"), sid)
    out.item = ScoringItem(question, images[0], images[1], negatives, candidates)
    return out


def audit_records(vlm: Any, raws: Sequence[Any], settings: AuditSettings) -> list[SampleAudit]:
    """Audit ``raws`` (stored :class:`vzero_data.store.records.RawRecord` s) with the loaded teacher
    ``vlm``; one result per record, in order."""
    from vzero_core.vlm.option_scoring import greedy_answers, score_candidates

    prepared = [prepare(raw, settings) for raw in raws]
    ready = [p for p in prepared if p.failure is None]
    open_free = [p for p in ready if not p.item.candidates]
    if open_free:
        answers = greedy_answers(
            vlm,
            [p.item for p in open_free],
            templates=settings.templates,
            max_new_tokens=settings.max_new_tokens,
        )
        for p, a in zip(open_free, answers, strict=True):
            p.item, p.reference_index = replace(p.item, candidates=(a,)), 0
    scores = score_candidates(
        vlm, [p.item for p in ready], templates=settings.templates, micro_batch_size=settings.micro_batch_size
    )
    by_id = {id(p): s for p, s in zip(ready, scores, strict=True)}
    out = []
    for p in prepared:
        sample = p.raw.sample
        result = SampleAudit(sample["sample_id"], p.raw.config_hash)
        if p.failure is not None:
            result.failure = p.failure
            out.append(result)
            continue
        s = by_id[id(p)]
        ref = p.reference_index if p.reference_index is not None else label_free_reference(s)
        views = ScoredViews(
            sample["sample_id"],
            p.raw.config_hash,
            p.raw.positive_view_id,
            p.raw.positive_strategy,
            p.raw.negative_view_ids,
        )
        verdict = sample_verdict(
            s,
            candidates=p.item.candidates,
            reference_index=ref,
            mode=p.mode,
            multiple_choice=p.multiple_choice,
            views=views,
            judging=settings.judging,
        )
        result.rows, result.rejects = verdict.rows, verdict.rejects
        out.append(result)
    return out


def load_teacher(settings: AuditSettings) -> Any:
    """The teacher, frozen, on the settings' device and dtype."""
    from vzero_core.vlm.models import load_vlm

    return load_vlm(settings.teacher, device=settings.device, dtype=settings.dtype)
