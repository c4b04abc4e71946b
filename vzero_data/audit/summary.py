"""What an audit found, from its rows in the store: per negative strategy the evidence-removal rate
(Wilson interval) and the mean gap (bootstrap interval), the gate-weight distribution, the zooming
gap (accuracy with the full image alone, with the crop, with the crop alone), the question alone
against chance, and the flags.

The removal rate of a strategy is the share of its scored views not flagged
``negative_keeps_evidence``: the negative lowered the reference's log-prob by at least ``min_gap``.
"""

from __future__ import annotations

from typing import Any

from vzero_core.intervals import CONFIDENCE, bootstrap_mean_interval, wilson_interval
from vzero_data.audit.verdicts import FLAGS, NEGATIVE, NEGATIVE_KEEPS_EVIDENCE
from vzero_data.audit.writer import FAILED
from vzero_data.store.audited import audits_of, resolve_audit  # noqa: F401  (re-exported)
from vzero_data.store.layout import StoreError

GATE_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
CONTEXT_ORDER = ("positive", "full_image", "crop_only", "text_only")


def proportion(k: int, n: int) -> dict[str, Any]:
    low, high = wilson_interval(k, n) if n else (None, None)
    return {"k": k, "n": n, "rate": k / n if n else None, "ci_low": low, "ci_high": high}


def mean_interval(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    low, high = bootstrap_mean_interval(values)
    return {"mean": sum(values) / len(values), "ci_low": low, "ci_high": high, "n": len(values)}


def summarize(store: Any, teacher_id: str, audit_hash: str) -> dict[str, Any]:
    """The summary of one audit (see the module docstring), ready for JSON."""
    key = [teacher_id, audit_hash]
    where = "teacher_id = ? AND audit_hash = ?"
    head = store.query(
        f"""SELECT any_value(teacher) AS teacher, any_value(teacher_revision) AS revision,
                   any_value(config_hash) AS config_hash, count(DISTINCT sample_id) AS samples,
                   count(DISTINCT sample_id) FILTER (WHERE context = '{FAILED}') AS failed,
                   count(DISTINCT sample_id) FILTER (WHERE mode = 'labelled') AS labelled,
                   count(DISTINCT sample_id) FILTER (WHERE mode = 'label_free') AS label_free,
                   avg(1.0 / len(candidates)) FILTER (WHERE context = 'positive' AND len(candidates) > 1) AS chance
            FROM audits WHERE {where}""",
        key,
    ).to_pylist()[0]
    if not head["samples"]:
        raise StoreError(f"{store.root}: no rows of teacher {teacher_id} audit {audit_hash}")
    rows = store.query(
        f"""SELECT context, strategy, correct, gap, gate_weight, score_std, flags FROM audits
            WHERE {where} AND context != '{FAILED}'""",
        key,
    ).to_pylist()
    contexts = {}
    for context in CONTEXT_ORDER:
        outcomes = [r["correct"] for r in rows if r["context"] == context and r["correct"] is not None]
        contexts[context] = proportion(sum(outcomes), len(outcomes))
    strategies: dict[str, Any] = {}
    for name in sorted({r["strategy"] for r in rows if r["context"] == NEGATIVE}):
        mine = [r for r in rows if r["context"] == NEGATIVE and r["strategy"] == name]
        removed = sum(NEGATIVE_KEEPS_EVIDENCE not in r["flags"] for r in mine)
        weights = sorted(r["gate_weight"] for r in mine if r["gate_weight"] is not None)
        outcomes = [r["correct"] for r in mine if r["correct"] is not None]
        strategies[name] = {
            "removal": proportion(removed, len(mine)),
            "gap": mean_interval([r["gap"] for r in mine]),
            "accuracy": proportion(sum(outcomes), len(outcomes)),
            "gate_weight": _quantiles(weights),
            "score_std_median": _quantiles(
                sorted(r["score_std"] for r in mine if r["score_std"] is not None)
            ).get("q50"),
        }
    flags = {f: sum(f in r["flags"] for r in rows) for f in FLAGS}
    acc = {c: v["rate"] for c, v in contexts.items()}
    zoom = {
        "crop_minus_full": _diff(acc["positive"], acc["full_image"]),
        "crop_only_minus_full": _diff(acc["crop_only"], acc["full_image"]),
    }
    return {
        "settings": audit_settings(store, audit_hash),
        "teacher": head["teacher"],
        "teacher_id": teacher_id,
        "teacher_revision": head["revision"],
        "audit_hash": audit_hash,
        "config_hash": head["config_hash"],
        "samples": head["samples"],
        "failed": head["failed"],
        "modes": {"labelled": head["labelled"], "label_free": head["label_free"]},
        "chance": head["chance"],
        "confidence": CONFIDENCE,
        "contexts": contexts,
        "zooming_gap": zoom,
        "strategies": strategies,
        "gate_weight": _quantiles(sorted(r["gate_weight"] for r in rows if r["gate_weight"] is not None)),
        "flags": flags,
    }


def audit_settings(store: Any, audit_hash: str) -> dict[str, Any] | None:
    """The audit's own settings (its ``audit:`` config, less how it ran), from its latest run."""
    import json

    rows = store.query(
        "SELECT recipe FROM runs WHERE config_hash = ? ORDER BY recorded_at DESC LIMIT 1", [audit_hash]
    ).to_pylist()
    if not rows:
        return None
    try:
        audit = json.loads(rows[0]["recipe"]).get("audit", {})
    except (json.JSONDecodeError, AttributeError):
        return None
    return {k: v for k, v in audit.items() if k != "execution"}


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _quantiles(values: list[float]) -> dict[str, Any]:
    import numpy as np

    if not values:
        return {"n": 0}
    q = np.quantile(np.asarray(values, dtype=np.float64), GATE_QUANTILES)
    return {
        "n": len(values),
        **{f"q{round(p * 100):02d}": float(v) for p, v in zip(GATE_QUANTILES, q, strict=True)},
    }


def gaps_by_strategy(store: Any, teacher_id: str, audit_hash: str) -> dict[str, list[float]]:
    """Every negative's gap, by strategy (what the histograms plot)."""
    table = store.query(
        "SELECT strategy, gap FROM audits WHERE teacher_id = ? AND audit_hash = ? AND context = ? ORDER BY strategy",
        [teacher_id, audit_hash, NEGATIVE],
    )
    out: dict[str, list[float]] = {}
    for s, g in zip(table.column("strategy").to_pylist(), table.column("gap").to_pylist(), strict=True):
        out.setdefault(s, []).append(g)
    return out
