"""Reading training records back: one sample with its full image, positive crop and negative views.

Reads batch by batch (a sample's rows live in one batch), so memory is bounded by one shard.
Answers are exposed only as ``eval_answer``: training never reads them. Options (``eval_options``) are
part of the question, which training and evaluation show alike.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
from PIL import Image

from vzero_core.image_io import decode_image
from vzero_core.sample import Sample
from vzero_data.store.layout import StoreError

log = logging.getLogger(__name__)


class Store(Protocol):
    """What record reading needs of a store (:class:`vzero_data.store.reader.StoreReader` has it):
    where it is, read-only SQL over its tables, its published batches and their shard files, and
    image bytes by hash."""

    root: Any

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table: ...

    def batches(self) -> list[Any]: ...

    def read_shard(
        self, batch: Any, table: str, columns: list[str] | None = None, filters: list | None = None
    ) -> pa.Table | None: ...

    def image_bytes(self, sha256s: list[str]) -> dict[str, bytes]: ...


@dataclass
class RecordCounts:
    """What a record iteration yielded and what it skipped, and why."""

    yielded: int = 0
    missing_positive: int = 0
    missing_strategy: Counter = field(default_factory=Counter)
    missing_image: int = 0
    not_audited: int = 0  # audited_by: the audit has no rows of the sample (or of its positive)
    audit_rejected: int = 0  # audited_by: the audit rejected the sample
    audit_rejected_views: Counter = field(
        default_factory=Counter
    )  # negatives the audit rejected, by strategy
    removed_duplicate: int = 0  # removed by `vzero-data dedup` (a rejects row at stage dedup)

    @property
    def skipped(self) -> int:
        return (
            self.missing_positive
            + sum(self.missing_strategy.values())
            + self.missing_image
            + self.not_audited
            + self.audit_rejected
            + self.removed_duplicate
        )

    def as_dict(self) -> dict[str, Any]:
        out = {
            "yielded": self.yielded,
            "skipped_missing_positive": self.missing_positive,
            "skipped_missing_negative": dict(self.missing_strategy),
            "skipped_missing_image": self.missing_image,
            "skipped_removed_duplicate": self.removed_duplicate,
        }
        if self.not_audited or self.audit_rejected or self.audit_rejected_views:
            out.update(
                skipped_not_audited=self.not_audited,
                skipped_audit_rejected=self.audit_rejected,
                audit_rejected_negatives=dict(self.audit_rejected_views),
            )
        return out


@dataclass(frozen=True)
class RawRecord:
    """A training record with encoded image bytes (what exports write without re-encoding)."""

    sample: dict[str, Any]  # the samples row
    config_hash: str
    image_bytes: bytes
    positive_bytes: bytes
    positive_box: list[float] | None
    positive_strategy: str
    negative_bytes: dict[str, bytes]
    negative_boxes: dict[str, list[float] | None]
    extra_bytes: dict[str, bytes] = field(default_factory=dict)
    positive_view_id: str | None = None
    negative_view_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingRecord:
    """What the trainer consumes. ``eval_answer`` is for evaluation only and training never reads it;
    ``eval_options`` are part of the question (training shows them as evaluation does)."""

    sample_id: str
    config_hash: str
    question: str
    image: Image.Image
    positive: Image.Image
    negatives: dict[str, Image.Image]
    positive_box: list[float] | None
    target: str | None
    source: str
    metadata: dict[str, Any]
    eval_answer: str | None = None
    eval_options: tuple[str, ...] | None = None
    positive_strategy: str = ""
    negative_boxes: dict[str, list[float] | None] = field(default_factory=dict)


def _config_filter(config_hash: str | None) -> list:
    return [("config_hash", "=", config_hash)] if config_hash is not None else []


def require_one_config(store: Store, config_hash: str | None, *, how: str = "--config-hash") -> None:
    """Without ``config_hash``, the store's valid views must come from one config: records of several
    (an ablation curated into the same store) would yield every sample once per config. ``how`` tells
    the reader how to choose one (a CLI flag or a recipe field)."""
    if config_hash is not None:
        return
    known = store.query("SELECT DISTINCT config_hash FROM views WHERE valid ORDER BY 1").column(0).to_pylist()
    if len(known) > 1:
        raise StoreError(
            f"{store.root}: views of several config hashes ({', '.join(known)}); choose one with {how}"
        )


def iter_raw_records(
    store: Store,
    strategies: list[str] | None = None,
    config_hash: str | None = None,
    limit: int | None = None,
    *,
    require_all: bool = True,
    counts: RecordCounts | None = None,
    positive_strategy: str | None = None,
    extra_strategies: list[str] | None = None,
    audited_by: str | None = None,
) -> Iterator[RawRecord]:
    """Raw (encoded) training records, batch by batch; see :func:`iter_training_records`.

    The positive is the first valid positive view written for the sample, or the one of
    ``positive_strategy``. ``extra_strategies`` are looked up among views of any kind (e.g. the
    random-crop ablation) and are required: a sample lacking one is skipped and counted.
    ``audited_by`` names an evidence audit (:func:`vzero_data.store.audited.resolve_audit`): only
    views it scored and accepted are used, and a sample it did not audit or rejected is skipped and
    counted.
    """
    from vzero_data.store.audited import audit_verdicts, resolve_audit

    counts = counts if counts is not None else RecordCounts()
    audit = resolve_audit(store, audited_by) if audited_by is not None else None
    wanted = list(dict.fromkeys(strategies)) if strategies else None
    extras = list(dict.fromkeys(extra_strategies or []))
    seen: set[tuple[str, str]] = set()
    removed = set(
        store.query("SELECT DISTINCT sample_id FROM rejects WHERE stage = 'dedup'")
        .column("sample_id")
        .to_pylist()
    )
    for batch in store.batches():
        if limit is not None and counts.yielded >= limit:
            return
        views = store.read_shard(batch, "views", filters=[("valid", "=", True), *_config_filter(config_hash)])
        if views is None or views.num_rows == 0:
            continue
        by_key: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        for row in views.to_pylist():
            entry = by_key.setdefault(
                (row["sample_id"], row["config_hash"]), {"positive": {}, "negative": {}}
            )
            entry[row["kind"]].setdefault(row["strategy"], row)
        del views
        verdicts = audit_verdicts(store, *audit, sorted({k[0] for k in by_key})) if audit else None
        samples = _sample_rows(store, batch, {k[0] for k in by_key})
        images = _images_for(
            store, batch, {samples[sid]["image_sha256"] for sid, _ in by_key if sid in samples}
        )
        for key, entry in by_key.items():
            if key in seen:
                continue
            seen.add(key)
            if key[0] in removed:
                counts.removed_duplicate += 1
                continue
            positives, negatives = entry["positive"], entry["negative"]
            pos = (
                positives.get(positive_strategy)
                if positive_strategy
                else next(iter(positives.values()), None)
            )
            if pos is None:
                counts.missing_positive += 1
                continue
            if verdicts is not None:
                verdict = verdicts.get(key[0])
                if verdict is None or not verdict.get(pos["view_id"], False):
                    # never scored (or another positive was): not audited; failed or refused: rejected
                    unscored = verdict is None or (verdict and pos["view_id"] not in verdict)
                    if unscored:
                        counts.not_audited += 1
                    else:
                        counts.audit_rejected += 1
                    continue
                refused = [s for s, v in negatives.items() if not verdict.get(v["view_id"], False)]
                counts.audit_rejected_views.update(refused)
                negatives = {s: v for s, v in negatives.items() if s not in refused}
            sample = samples.get(key[0])
            if sample is None or sample["image_sha256"] not in images:
                counts.missing_image += 1
                log.warning("sample %s has views but its sample row or image is missing", key[0])
                continue
            chosen = {s: v for s, v in negatives.items() if wanted is None or s in wanted}
            missing = [s for s in (wanted or []) if s not in chosen] if require_all else []
            missing += [s for s in extras if s not in negatives and s not in positives]
            if missing:
                counts.missing_strategy[missing[0]] += 1
                continue
            counts.yielded += 1
            yield RawRecord(
                sample=sample,
                config_hash=key[1],
                image_bytes=images[sample["image_sha256"]],
                positive_bytes=pos["image_bytes"],
                positive_box=pos["box"],
                positive_strategy=pos["strategy"],
                negative_bytes={s: v["image_bytes"] for s, v in chosen.items()},
                negative_boxes={s: v["box"] for s, v in chosen.items()},
                extra_bytes={s: (negatives.get(s) or positives[s])["image_bytes"] for s in extras},
                positive_view_id=pos["view_id"],
                negative_view_ids={s: v["view_id"] for s, v in chosen.items()},
            )
            if limit is not None and counts.yielded >= limit:
                return


def _sample_rows(store: Store, batch: Any, sample_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Sample rows for ``sample_ids``: from this batch, else from anywhere in the store."""
    out: dict[str, dict[str, Any]] = {}
    table = store.read_shard(batch, "samples")
    if table is not None:
        table = table.filter(pc.is_in(table.column("sample_id"), value_set=_array(sample_ids)))
        for row in table.to_pylist():
            out.setdefault(row["sample_id"], row)
    missing = sorted(sample_ids - out.keys())
    if missing:
        for row in store.query(
            "SELECT * FROM samples WHERE list_contains(?, sample_id)", [missing]
        ).to_pylist():
            out.setdefault(row["sample_id"], row)
    return out


def _images_for(store: Store, batch: Any, hashes: set[str]) -> dict[str, bytes]:
    """Encoded bytes for ``hashes``: this batch's images file first, then the whole store."""
    out: dict[str, bytes] = {}
    table = store.read_shard(batch, "images", columns=["sha256", "bytes"])
    if table is not None and hashes:
        table = table.filter(pc.is_in(table.column("sha256"), value_set=_array(hashes)))
        out.update(zip(table.column("sha256").to_pylist(), table.column("bytes").to_pylist(), strict=True))
    out.update(store.image_bytes(sorted(hashes - out.keys())))
    return out


def _array(values: set[str]):
    import pyarrow as pa

    return pa.array(sorted(values), type=pa.string())


def sample_from_row(row: dict[str, Any]) -> Sample:
    """Inverse of the writer's sample row."""
    data = dict(row)
    data["metadata"] = json.loads(row["metadata"] or "{}")
    return Sample.from_dict(data)


def to_training_record(raw: RawRecord, where: str) -> TrainingRecord:
    s = raw.sample
    sha = s["image_sha256"]
    return TrainingRecord(
        sample_id=s["sample_id"],
        config_hash=raw.config_hash,
        question=s["question"],
        image=decode_image(raw.image_bytes, f"{where}: image {sha}"),
        positive=decode_image(raw.positive_bytes, f"{where}: positive view of {s['sample_id']}"),
        negatives={
            k: decode_image(v, f"{where}: {k} view of {s['sample_id']}")
            for k, v in raw.negative_bytes.items()
        },
        positive_box=raw.positive_box,
        target=s["target"],
        source=s["source"] or "",
        metadata=json.loads(s["metadata"] or "{}"),
        eval_answer=s["answer"],
        eval_options=tuple(s["options"]) if s["options"] is not None else None,
        positive_strategy=raw.positive_strategy,
        negative_boxes=raw.negative_boxes,
    )


def iter_training_records(store: Store, *args: Any, **kwargs: Any) -> Iterator[TrainingRecord]:
    """Decoded training records; takes the arguments of :func:`iter_raw_records`."""
    counts = kwargs.get("counts") or RecordCounts()
    kwargs["counts"] = counts
    for raw in iter_raw_records(store, *args, **kwargs):
        yield to_training_record(raw, str(store.root))
    if counts.skipped:
        log.warning("training records: %s", counts.as_dict())


def iter_samples(store: Store, config_hash: str | None = None) -> Iterator[Sample]:
    for batch in store.batches():
        table = store.read_shard(batch, "samples", filters=_config_filter(config_hash))
        if table is None:
            continue
        for row in table.to_pylist():
            yield sample_from_row(row)
