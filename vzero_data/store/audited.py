"""Reading audits back: which audits a store holds, naming one, and the views an audit accepted.

An audit is named by its teacher (its ``teacher_id``, the name or path it was given, or a path to the
same folder) or by its audit hash; ``--audited-by`` readers (export, training) then use only the
views that audit scored and accepted (:mod:`vzero_data.audit`: a view it rejected has a ``rejects``
row saying why).
"""

from __future__ import annotations

import os
from typing import Any

from vzero_data.store.layout import StoreError

SCORED_VIEW_CONTEXTS = ("positive", "negative")


def audits_of(store: Any) -> list[dict[str, Any]]:
    """Every (teacher, audit) in the store: ids, hashes, samples, rows, latest run."""
    return store.query(
        """SELECT teacher_id, any_value(teacher) AS teacher, audit_hash, any_value(config_hash) AS config_hash,
                  count(DISTINCT sample_id) AS samples, count(*) AS rows, max(run_id) AS last_run
           FROM audits GROUP BY teacher_id, audit_hash ORDER BY teacher_id, audit_hash"""
    ).to_pylist()


def resolve_audit(store: Any, teacher: str | None = None, audit_hash: str | None = None) -> tuple[str, str]:
    """``(teacher_id, audit_hash)`` named by ``teacher`` (a teacher id, the name or path the teacher
    was given, a path to the same folder, or an audit hash) and/or ``audit_hash``; a
    :class:`StoreError` listing the store's audits when that names none or several."""
    audits = audits_of(store)
    known = _names(audits) or "none"

    def named(a: dict[str, Any]) -> bool:
        return teacher in (a["teacher_id"], a["teacher"], a["audit_hash"]) or _same_path(
            teacher, a["teacher"]
        )

    chosen = [
        a
        for a in audits
        if (teacher is None or named(a)) and (audit_hash is None or a["audit_hash"] == audit_hash)
    ]
    if not chosen:
        what = " ".join(
            x for x in (teacher and f"teacher {teacher}", audit_hash and f"audit {audit_hash}") if x
        )
        raise StoreError(f"{store.root}: no audit by {what or 'any teacher'}; audits here: {known}")
    if len(chosen) > 1:
        raise StoreError(
            f"{store.root}: several audits match ({_names(chosen)}); name the teacher id and the audit hash"
        )
    return chosen[0]["teacher_id"], chosen[0]["audit_hash"]


def _names(audits: list[dict[str, Any]]) -> str:
    return "; ".join(f"{a['teacher_id']} audit {a['audit_hash']}" for a in audits)


def _same_path(a: str, b: str) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def audit_verdicts(store: Any, teacher_id: str, audit_hash: str, sample_ids: list[str]) -> dict[str, dict]:
    """Per sample of ``sample_ids`` this audit scored: ``{view_id: accepted}`` of its positive and
    negative views (empty for a sample the audit could not score)."""
    table = store.query(
        """SELECT sample_id, view_id, accepted FROM audits
           WHERE teacher_id = ? AND audit_hash = ? AND context IN ('positive', 'negative', 'failed')
             AND list_contains(?, sample_id)""",
        [teacher_id, audit_hash, list(sample_ids)],
    )
    out: dict[str, dict] = {}
    columns = (table.column(c).to_pylist() for c in ("sample_id", "view_id", "accepted"))
    for sid, view_id, accepted in zip(*columns, strict=True):
        views = out.setdefault(sid, {})
        if view_id is not None:
            views[view_id] = bool(accepted)
    return out
