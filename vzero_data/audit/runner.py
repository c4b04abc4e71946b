"""``run_audit``: a teacher scores every stored view of a store, resumably, into its ``audits`` table.

The driver (this process) checks the store, the teacher and the settings before any model loads,
reads the records still to audit (those of its ``--shard`` that this teacher has not audited under
this audit hash) batch by batch from the shards, hands them to an executor (this process, worker
processes, or Ray actors) and writes each result through :class:`AuditWriter`. Like curation it
records a run in ``runs`` and holds a lease while it lives, so a later run marks a killed one
``interrupted``; killed at any moment (even ``kill -9``), a run loses only unpublished samples.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import chain
from typing import Any

from vzero_core.recipe_base import RecipeError
from vzero_data.audit.config import AuditConfig, audit_hash
from vzero_data.audit.scorer import AuditSettings, SampleAudit
from vzero_data.audit.teacher import TeacherIdentity, teacher_identity
from vzero_data.audit.writer import AuditWriter, audited_sample_ids
from vzero_data.pipeline.sharding import ALL, ShardSpec
from vzero_data.store.layout import StoreError

log = logging.getLogger(__name__)
DIGEST_CACHE = ".teacher-digests.json"


@dataclass
class AuditOutcome:
    """What one :func:`run_audit` call did."""

    store: str
    teacher: TeacherIdentity
    audit_hash: str
    config_hash: str
    strategies: list[str]
    run_id: str | None = None
    audited: int = 0
    failed: Counter = field(default_factory=Counter)
    already_done: int = 0
    other_shards: int = 0
    concurrent: int = 0
    skipped: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def nothing_to_do(self) -> bool:
        return self.run_id is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "teacher": self.teacher.name,
            "teacher_id": self.teacher.id,
            "teacher_revision": self.teacher.revision,
            "audit_hash": self.audit_hash,
            "config_hash": self.config_hash,
            "strategies": self.strategies,
            "run_id": self.run_id,
            "audited": self.audited,
            "failed": dict(self.failed),
            "already_done": self.already_done,
            "other_shards": self.other_shards,
            "concurrent": self.concurrent,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        }

    def format(self) -> str:
        head = f"teacher {self.teacher.id}, audit {self.audit_hash} of config {self.config_hash}"
        if self.nothing_to_do:
            return f"nothing to do: {self.already_done} samples already audited ({head})"
        rate = self.audited / self.seconds if self.seconds else 0.0
        lines = [f"audited {self.audited} samples in {self.seconds:.1f}s ({rate:.2f} samples/s): {head}"]
        lines.append(f"  strategies: {', '.join(self.strategies) or 'none'}")
        if self.already_done or self.other_shards:
            lines.append(
                f"  skipped: {self.already_done} audited earlier, {self.other_shards} in other shards"
            )
        if self.failed:
            lines.append("  failed: " + ", ".join(f"{k}: {v}" for k, v in self.failed.most_common()))
        noisy = {k: v for k, v in self.skipped.items() if v and k != "yielded"}
        if noisy:
            lines.append(f"  records skipped: {noisy}")
        return "\n".join(lines)


def resolve_scope(store: Any, config: AuditConfig) -> tuple[str, list[str]]:
    """The curation config hash whose views are audited and the negative strategies scored; a
    located :class:`StoreError` when the store has none, several, or not the named ones."""
    hashes = (
        store.query("SELECT DISTINCT config_hash FROM views WHERE valid AND kind = 'positive' ORDER BY 1")
        .column(0)
        .to_pylist()
    )
    if config.config_hash is not None:
        if config.config_hash not in hashes:
            raise StoreError(
                f"{store.root}: no views of config_hash {config.config_hash!r}; known: {', '.join(hashes) or 'none'}"
            )
        chash = config.config_hash
    elif not hashes:
        raise StoreError(f"{store.root}: no valid positive views to audit; run curation first")
    elif len(hashes) > 1:
        raise StoreError(
            f"{store.root}: views of several config hashes ({', '.join(hashes)}); choose one with --config-hash"
        )
    else:
        chash = hashes[0]
    stored = (
        store.query(
            "SELECT DISTINCT strategy FROM views WHERE valid AND kind = 'negative' AND config_hash = ? ORDER BY 1",
            [chash],
        )
        .column(0)
        .to_pylist()
    )
    if config.strategies is None:
        return chash, stored
    unknown = [s for s in config.strategies if s not in stored]
    if unknown:
        raise StoreError(
            f"{store.root}: no valid negative views of strategy {unknown[0]!r} under config {chash}; "
            f"known: {', '.join(stored) or 'none'}"
        )
    return chash, list(dict.fromkeys(config.strategies))


def check_teacher(config: AuditConfig) -> None:
    """The teacher can be loaded: a folder that exists, or a hub id cached or reachable."""
    from vzero_core.model_source import model_source_problem

    problem = model_source_problem(config.teacher, what="teacher")
    if problem:
        raise RecipeError(f"audit.teacher: {problem}")


def _pending(
    records: Iterator[Any], done: set[str], shard: ShardSpec, outcome: AuditOutcome
) -> Iterator[Any]:
    for raw in records:
        sid = raw.sample["sample_id"]
        if not shard.owns(sid):
            outcome.other_shards += 1
        elif sid in done:
            outcome.already_done += 1
        else:
            yield raw


def _executor(config: AuditConfig) -> Callable[[Iterator[Any], AuditSettings], Iterator[SampleAudit]]:
    ex = config.execution
    if ex.executor == "ray":
        from vzero_data.audit.executors import run_ray

        return lambda records, settings: run_ray(records, settings, batch_size=ex.batch_size, ray=ex.ray)
    from vzero_data.audit.executors import run_local

    return lambda records, settings: run_local(
        records, settings, batch_size=ex.batch_size, workers=ex.workers
    )


def run_audit(
    store_path: str | os.PathLike[str],
    config: AuditConfig,
    *,
    shard: ShardSpec = ALL,
) -> AuditOutcome:
    """Audit the store at ``store_path`` with ``config``'s teacher; see the module docstring.

    Raises :class:`StoreError` or :class:`RecipeError` before any model loads when the store, its
    views or the teacher are missing; a sample that cannot be audited is recorded as a failure.
    """
    from vzero_core.progress import progress_bar
    from vzero_data.store import RecordCounts, iter_raw_records
    from vzero_data.store.layout import new_run_id
    from vzero_data.store.store import open_local_store

    store = open_local_store(store_path, "audit")
    check_teacher(config)
    chash, strategies = resolve_scope(store, config)
    try:
        identity = teacher_identity(config.teacher, store.root / DIGEST_CACHE)
    except FileNotFoundError as exc:
        raise RecipeError(f"audit.teacher: {exc}") from None
    ahash = audit_hash(config, chash, strategies)
    outcome = AuditOutcome(str(store.root), identity, ahash, chash, strategies)
    for dead in store.mark_dead_runs():
        log.warning("run %s was left 'running' by a process that is gone; recorded it as interrupted", dead)
    done = audited_sample_ids(store.root, identity.id, ahash)
    ex = config.execution
    counts = RecordCounts()
    extra = {"positive_strategy": config.positive_strategy} if config.positive_strategy else {}
    records = iter_raw_records(store, strategies, chash, ex.limit, require_all=False, counts=counts, **extra)
    pending = _pending(records, done, shard, outcome)
    first = next(pending, None)
    if first is None:
        outcome.skipped = counts.as_dict()
        return outcome

    run_id = outcome.run_id = new_run_id()
    recipe = json.dumps(
        {
            "audit": config.model_dump(mode="json"),
            "teacher_id": identity.id,
            "config_hash": chash,
            "strategies": strategies,
        },
        sort_keys=True,
    )
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    lease = store.lease(run_id).acquire()
    store.record_run(run_id, ahash, recipe=recipe, started_at=started, status="running")
    status = "failed"
    total = _total(store, chash, ex.limit, len(done)) if shard == ALL else None
    try:
        with (
            AuditWriter(store.root, run_id, identity, ahash, flush_every=ex.flush_every) as writer,
            progress_bar(total=total, desc="audit", unit="sample", enabled=ex.progress) as bar,
        ):
            for result in _executor(config)(chain([first], pending), AuditSettings.from_config(config)):
                writer.add(result)
                if result.failure is not None:
                    outcome.failed[result.failure[0]] += 1
                else:
                    outcome.audited += 1
                bar.update(1)
        outcome.concurrent = writer.samples_taken
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        outcome.seconds = time.perf_counter() - t0
        outcome.skipped = counts.as_dict()
        store.record_run(
            run_id,
            ahash,
            recipe=recipe,
            started_at=started,
            finished_at=datetime.now(timezone.utc),
            timings={"audit": outcome.seconds},
            counts=outcome.as_dict(),
            status=status,
        )
        lease.release()
    return outcome


def _total(store: Any, chash: str, limit: int | None, done: int) -> int:
    """Samples this run will audit, for the progress bar (those with a valid positive, less done ones)."""
    n = int(
        store.query(
            "SELECT count(DISTINCT sample_id) FROM views WHERE valid AND kind = 'positive' AND config_hash = ?",
            [chash],
        )
        .column(0)[0]
        .as_py()
    )
    return max(0, (min(n, limit) if limit else n) - done)
