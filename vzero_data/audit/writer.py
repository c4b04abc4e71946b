"""Publish audit results: a sample's rows (and its rejects) become visible together, never twice.

Rows buffer per sample and are published every ``flush_every`` samples as one batch holding an
``audits`` file and, when the audit rejected something, a ``rejects`` file (the store's atomic batch
write: staged, fsynced, renamed). A kill loses at most the unpublished samples, which the next run
audits again. Under the store's lock, samples another writer has published meanwhile under the same
teacher and audit hash (an overlapping shard, a second launch) are dropped with their rejects.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from vzero_data.audit.scorer import SampleAudit
from vzero_data.audit.teacher import TeacherIdentity
from vzero_data.store.layout import StoreError, clean_stale_tmp, write_batch
from vzero_data.store.locking import store_lock
from vzero_data.store.schema import AUDITS, REJECTS

log = logging.getLogger(__name__)
STAGE = "audit"
FAILED = "failed"  # the context of a sample the audit could not score (its flag_details say why)


def audited_sample_ids(
    root: Path, teacher_id: str, audit_hash: str, sample_ids: list[str] | None = None
) -> set[str]:
    """Samples with rows of this teacher and audit (all of them, or among ``sample_ids``)."""
    from vzero_data.store import catalog

    con = catalog.connect(root)
    try:
        sql = "SELECT DISTINCT sample_id FROM audits WHERE teacher_id = $t AND audit_hash = $h"
        params: dict = {"t": teacher_id, "h": audit_hash}
        if sample_ids is not None:
            con.register("batch_ids", pa.table({"sample_id": pa.array(sample_ids, pa.string())}))
            sql += " AND sample_id IN (FROM batch_ids)"
        return set(con.sql(sql, params=params).to_arrow_table().column("sample_id").to_pylist())
    finally:
        con.close()


class AuditWriter:
    """Use as a context manager; :meth:`add` each sample's result, in any order."""

    def __init__(
        self, root: Path, run_id: str, teacher: TeacherIdentity, audit_hash: str, *, flush_every: int = 64
    ) -> None:
        self.root = root
        self.run_id = run_id
        self.teacher = teacher
        self.audit_hash = audit_hash
        self.flush_every = flush_every
        self._audits: list[dict] = []
        self._rejects: list[dict] = []
        self._samples = 0
        self.batches_written: list[Path] = []
        self.samples_taken = 0  # published first by a concurrent writer
        clean_stale_tmp(root)

    def add(self, result: SampleAudit) -> None:
        stamp = {
            "teacher": self.teacher.name,
            "teacher_revision": self.teacher.revision,
            "teacher_id": self.teacher.id,
            "audit_hash": self.audit_hash,
            "run_id": self.run_id,
        }
        rows = [{**r, **stamp} for r in result.rows]
        rejects = list(result.rejects)
        if result.failure is not None:
            reason, detail = result.failure
            rows = [_failed_row(result, reason, detail, stamp)]
            rejects = [result.failure]
        where = f"sample {result.sample_id}"
        try:  # a row that does not fit is refused here, naming its sample, before it joins a batch
            pa.Table.from_pylist(rows, schema=AUDITS)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise StoreError(f"{where}: audit row does not fit the store schema ({exc})") from exc
        self._audits += rows
        suffix = f" (teacher {self.teacher.id}, audit {self.audit_hash})"
        self._rejects += [
            {
                "sample_id": result.sample_id,
                "config_hash": result.config_hash,
                "stage": STAGE,
                "reason": reason,
                "detail": detail + suffix,
                "run_id": self.run_id,
            }
            for reason, detail in rejects
        ]
        self._samples += 1
        if self._samples >= self.flush_every:
            self.flush()

    def flush(self) -> Path | None:
        """Publish the buffered samples as one batch; a no-op when nothing is buffered."""
        if not self._audits:
            return None
        tables = {"audits": pa.Table.from_pylist(self._audits, schema=AUDITS)}
        if self._rejects:
            tables["rejects"] = pa.Table.from_pylist(self._rejects, schema=REJECTS)
        self._audits, self._rejects, self._samples = [], [], 0
        with store_lock(self.root):
            ids = pc.unique(tables["audits"].column("sample_id")).to_pylist()
            stored = audited_sample_ids(self.root, self.teacher.id, self.audit_hash, ids)
            if stored:
                self.samples_taken += len(stored)
                log.info(
                    "%d sample(s) were audited by a concurrent writer first; not written again", len(stored)
                )
                keep = pa.array(sorted(set(ids) - stored), pa.string())
                tables = {
                    name: t.filter(pc.is_in(t.column("sample_id"), value_set=keep))
                    for name, t in tables.items()
                }
                tables = {name: t for name, t in tables.items() if t.num_rows}
            path = write_batch(self.root, tables) if tables else None
        if path is not None:
            self.batches_written.append(path)
        return path

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> AuditWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # buffered samples are complete: publish them even when the run stops early


def _failed_row(result: SampleAudit, reason: str, detail: str, stamp: dict) -> dict:
    import json

    return {
        "sample_id": result.sample_id,
        "config_hash": result.config_hash,
        "context": FAILED,
        "flags": [f"{FAILED}:{reason}"],
        "flag_details": json.dumps({reason: detail}),
        "accepted": False,
        **stamp,
    }
