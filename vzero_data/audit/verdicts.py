"""From a teacher's scores to an audit's rows: per context the reference's log-prob and correctness,
per negative its gap and gate weights, and the flags with their reasons. Pure: no model, no store.

Flags (each on the row it concerns):

- ``negative_keeps_evidence`` (a negative's row): the negative lowers the reference's log-prob by
  less than ``min_gap``: in the crop's place it still gives the teacher the answer;
- ``text_answers`` (the ``text_only`` row): the question alone answers: the teacher without any image
  picks the reference (multiple choice) and its log-prob is within ``min_gap`` of the positive's;
- ``crop_misses_evidence`` (the ``positive`` row; labelled multiple choice only): the teacher with
  the crop answers wrong where the full image alone answers right: the box likely misses the evidence;
- ``no_gate_signal`` (the ``positive`` row; multiple choice only): with every negative the candidates'
  evidence scores spread by less than ``min_score_std`` (population std, nats per token). The gate
  standardizes scores within a group, so such a spread, noise, would still become full-size weights.

The gate weight of a negative's row is :func:`vzero_core.evidence_gate.evidence_weights` over the
sample's candidates as one group (every option once, as G rollouts that each gave one option), at the
configured alpha: the weight the trainer would give a rollout that answered the reference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from vzero_core.evidence_gate import evidence_scores, evidence_weights
from vzero_core.vlm.option_scoring import CROP_ONLY, FULL_IMAGE, POSITIVE, TEXT_ONLY, CandidateScores

NEGATIVE = "negative"
CONTEXTS = (POSITIVE, NEGATIVE, FULL_IMAGE, CROP_ONLY, TEXT_ONLY)
NEGATIVE_KEEPS_EVIDENCE = "negative_keeps_evidence"
TEXT_ANSWERS = "text_answers"
CROP_MISSES_EVIDENCE = "crop_misses_evidence"
NO_GATE_SIGNAL = "no_gate_signal"
FLAGS = (NEGATIVE_KEEPS_EVIDENCE, TEXT_ANSWERS, CROP_MISSES_EVIDENCE, NO_GATE_SIGNAL)
LABELLED, LABEL_FREE = "labelled", "label_free"


@dataclass(frozen=True)
class Judging:
    """The thresholds, gate and reject policy a verdict applies (from :class:`AuditConfig`)."""

    min_gap: float
    min_score_std: float
    gamma: float = 1.0
    alpha: float = 0.5
    w_min: float = 0.0
    w_max: float = 2.0
    eps: float = 1e-6
    reject_negatives: bool = False
    reject_no_gate_signal: bool = False


@dataclass(frozen=True)
class ScoredViews:
    """Which stored views were in the crop slot: the positive's id and strategy, each negative's id."""

    sample_id: str
    config_hash: str
    positive_view_id: str | None
    positive_strategy: str
    negative_view_ids: Mapping[str, str | None] = field(default_factory=dict)


@dataclass
class Verdict:
    """One sample's audit: its rows (``audits`` columns, less the teacher, hash and run) and the
    rejects the reject policy records, as ``(reason, detail)``."""

    rows: list[dict[str, Any]]
    rejects: list[tuple[str, str]]


def _argmax(totals: torch.Tensor) -> int:
    return int(torch.argmax(totals))


def label_free_reference(scores: CandidateScores) -> int:
    """The teacher's own answer with the evidence: the candidate it finds most likely in the
    positive context (for multiple choice, its constrained greedy answer)."""
    return _argmax(scores.totals(POSITIVE))


def gate_of(scores: CandidateScores, negative: str, judging: Judging) -> tuple[torch.Tensor, float]:
    """The trainer's gate weights of the candidates (one group) with ``negative`` as the negative view,
    and the population std of their evidence scores."""
    kw = dict(gamma=judging.gamma, eps=judging.eps)
    l_plus, l_minus, mask = scores.token_logprobs[POSITIVE], scores.token_logprobs[negative], scores.mask
    weights = evidence_weights(
        l_plus,
        l_minus,
        mask,
        [0] * mask.shape[0],
        alpha=judging.alpha,
        w_min=judging.w_min,
        w_max=judging.w_max,
        **kw,
    )
    spread = float(evidence_scores(l_plus, l_minus, mask, **kw).std(unbiased=False))
    return weights, spread


def sample_verdict(
    scores: CandidateScores,
    *,
    candidates: Sequence[str],
    reference_index: int,
    mode: str,
    multiple_choice: bool,
    views: ScoredViews,
    judging: Judging,
) -> Verdict:
    """The audit rows of one sample; see the module docstring for the flags."""
    negatives = [n for n in scores.token_logprobs if n not in (POSITIVE, FULL_IMAGE, CROP_ONLY, TEXT_ONLY)]
    totals = {c: scores.totals(c) for c in scores.token_logprobs}
    ref = reference_index
    tokens = int(scores.mask[ref].sum())
    pos_lp = float(totals[POSITIVE][ref])

    def correct(context: str) -> bool | None:
        return (_argmax(totals[context]) == ref) if multiple_choice else None

    def row(context: str, scored: str, view_id: str | None, strategy: str | None) -> dict[str, Any]:
        lp = float(totals[scored][ref])
        return {
            "sample_id": views.sample_id,
            "config_hash": views.config_hash,
            "view_id": view_id,
            "context": context,
            "strategy": strategy,
            "mode": mode,
            "reference": candidates[ref],
            "reference_index": ref,
            "candidates": list(candidates),
            "logprob": lp,
            "tokens": tokens,
            "candidate_logprobs": [float(v) for v in totals[scored]],
            "correct": correct(scored),
            "gap": None,
            "gate_weight": None,
            "gate_weights": None,
            "score_std": None,
            "flags": [],
            "flag_details": {},
            "accepted": True,
        }

    positive = row(POSITIVE, POSITIVE, views.positive_view_id, views.positive_strategy)
    rows = [positive]
    spreads = []
    for name in negatives:
        r = row(NEGATIVE, name, views.negative_view_ids.get(name), name)
        r["gap"] = gap = pos_lp - r["logprob"]
        if multiple_choice and len(candidates) > 1:
            weights, spread = gate_of(scores, name, judging)
            r.update(
                gate_weight=float(weights[ref]), gate_weights=[float(w) for w in weights], score_std=spread
            )
            spreads.append(spread)
        if gap < judging.min_gap:
            r["flags"].append(NEGATIVE_KEEPS_EVIDENCE)
            r["flag_details"][NEGATIVE_KEEPS_EVIDENCE] = (
                f"gap {gap:.3f} < {judging.min_gap:.3f} nats: with this view in the crop's place the "
                "teacher still finds the reference"
            )
        rows.append(r)
    for context in (FULL_IMAGE, CROP_ONLY, TEXT_ONLY):
        if context not in totals:
            continue
        view_id, strategy = (
            (views.positive_view_id, views.positive_strategy) if context == CROP_ONLY else (None, None)
        )
        r = row(context, context, view_id, strategy)
        if context == TEXT_ONLY:
            r["gap"] = gap = pos_lp - r["logprob"]
            if r["correct"] is not False and gap < judging.min_gap:
                r["flags"].append(TEXT_ANSWERS)
                r["flag_details"][TEXT_ANSWERS] = (
                    f"the question alone gives the reference (gap to the positive {gap:.3f} < {judging.min_gap:.3f} nats)"
                )
        rows.append(r)
    by_context = {r["context"]: r for r in rows if r["context"] != NEGATIVE}
    full = by_context.get(FULL_IMAGE)
    if (
        mode == LABELLED
        and multiple_choice
        and full is not None
        and positive["correct"] is False
        and full["correct"]
    ):
        positive["flags"].append(CROP_MISSES_EVIDENCE)
        positive["flag_details"][CROP_MISSES_EVIDENCE] = (
            "the teacher answers right from the full image alone and wrong with the crop: the box likely misses the evidence"
        )
    if spreads and max(spreads) < judging.min_score_std:
        positive["flags"].append(NO_GATE_SIGNAL)
        positive["flag_details"][NO_GATE_SIGNAL] = (
            f"every negative spreads the candidates' evidence scores by at most {max(spreads):.2g} "
            f"< {judging.min_score_std:g} nats per token: the gate would weight noise"
        )
    return Verdict(rows, _apply_rejects(rows, positive, views, judging))


def _apply_rejects(
    rows: list[dict[str, Any]], positive: dict[str, Any], views: ScoredViews, judging: Judging
):
    """Mark what the reject policy refuses (``accepted`` false) and say why; flag details to JSON."""
    rejects: list[tuple[str, str]] = []
    if judging.reject_no_gate_signal and NO_GATE_SIGNAL in positive["flags"]:
        rejects.append((NO_GATE_SIGNAL, positive["flag_details"][NO_GATE_SIGNAL]))
        for r in rows:
            r["accepted"] = False
    for r in rows:
        if r["context"] == NEGATIVE and judging.reject_negatives and NEGATIVE_KEEPS_EVIDENCE in r["flags"]:
            r["accepted"] = False
            rejects.append(
                (
                    NEGATIVE_KEEPS_EVIDENCE,
                    f"view {r['view_id']} ({r['strategy']}): {r['flag_details'][NEGATIVE_KEEPS_EVIDENCE]}",
                )
            )
    for r in rows:
        r["flag_details"] = json.dumps(r["flag_details"], sort_keys=True)
    return rejects
