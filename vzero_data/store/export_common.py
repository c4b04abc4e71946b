"""What both exports share: choosing the view strategies, and the export summary."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from vzero_core.image_io import ImageDecodeError, decode_image
from vzero_data.store.layout import StoreError
from vzero_data.store.records import RawRecord, RecordCounts, require_one_config

__all__ = [
    "ExportSummary",
    "choose_strategy",
    "count_uncurated",
    "decoded_records",
    "export_views",
    "require_one_config",
    "view_strategies",
]
from vzero_data.store.store import Store


def view_strategies(store: Store, kind: str, config_hash: str | None = None) -> list[str]:
    """Distinct strategies of valid views of ``kind`` (optionally under one config hash)."""
    sql = "SELECT DISTINCT strategy FROM views WHERE valid AND kind = ?"
    params: list[Any] = [kind]
    if config_hash is not None:
        sql += " AND config_hash = ?"
        params.append(config_hash)
    return sorted(store.query(sql + " ORDER BY 1", params).column("strategy").to_pylist())


def export_views(
    store: Store, negative: str | None, positive: str | None, config_hash: str | None, audited_by: str | None
) -> tuple[str, str | None]:
    """The negative and positive strategies an export writes (:func:`choose_strategy`), after the
    checks that must pass before anything is written: one config in scope, and the audit
    ``audited_by`` names (if any) in the store."""
    from vzero_data.store.audited import resolve_audit

    require_one_config(store, config_hash)
    chosen = (
        choose_strategy(store, "negative", negative, config_hash),
        choose_strategy(store, "positive", positive, config_hash),
    )
    if audited_by is not None:
        resolve_audit(store, audited_by)
    return chosen


def choose_strategy(store: Store, kind: str, requested: str | None, config_hash: str | None) -> str | None:
    """``requested`` if the store has it; else the only strategy of ``kind``; ambiguity is an error."""
    known = view_strategies(store, kind, config_hash)
    scope = f" under config {config_hash}" if config_hash else ""
    if requested is not None:
        if requested not in known:
            raise StoreError(
                f"{store.root}: no valid {kind} views of strategy {requested!r}{scope}; known: {', '.join(known) or 'none'}"
            )
        return requested
    if not known:
        raise StoreError(f"{store.root}: no valid {kind} views{scope}; run curation first")
    if len(known) > 1:
        flag = "--negative-strategy" if kind == "negative" else "--positive-strategy"
        raise StoreError(
            f"{store.root}: several {kind} strategies ({', '.join(known)}); choose one with {flag}"
        )
    return known[0] if kind == "negative" else None


@dataclass
class ExportSummary:
    """What an export wrote and what it skipped, with reasons."""

    format: str
    out: str
    positive_strategy: str | None
    negative_strategy: str
    written: int = 0
    counts: RecordCounts = field(default_factory=RecordCounts)
    uncurated_samples: int = 0  # samples with no views at all in scope (never curated)
    skipped_placeholder: int = 0  # question text holding an <image>/<crop> token (would break counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "out": self.out,
            "positive_strategy": self.positive_strategy,
            "negative_strategy": self.negative_strategy,
            "written": self.written,
            **{k: v for k, v in self.counts.as_dict().items() if k != "yielded"},
            "skipped_placeholder_in_question": self.skipped_placeholder,
            "uncurated_samples": self.uncurated_samples,
        }

    def format_text(self) -> str:
        d = self.as_dict()
        skipped = {k: v for k, v in d.items() if k.startswith("skipped") and v}
        return (
            f"exported {self.written} records ({self.format}, negative strategy {self.negative_strategy!r}) to {self.out}"
            + (f"; skipped: {skipped}" if skipped else "")
            + (
                f"; {self.uncurated_samples} samples have no views (not curated)"
                if self.uncurated_samples
                else ""
            )
        )


def count_uncurated(store: Store, config_hash: str | None) -> int:
    """Samples that have no views at all (under ``config_hash`` if given; else under any config)."""
    if config_hash is None:
        sql = "SELECT count(DISTINCT sample_id) AS n FROM samples WHERE sample_id NOT IN (SELECT sample_id FROM views)"
        return int(store.query(sql).to_pylist()[0]["n"])
    sql = """SELECT count(DISTINCT sample_id) AS n FROM samples WHERE config_hash = ?
             AND sample_id NOT IN (SELECT sample_id FROM views WHERE config_hash = ?)"""
    return int(store.query(sql, [config_hash, config_hash]).to_pylist()[0]["n"])


def decoded_records(records: Iterable[RawRecord], store: Store) -> Iterator[RawRecord]:
    """``records``, each after its full image and every view it carries decoded: an export never
    writes an image a trainer cannot read. One that does not decode is a ``StoreError`` naming the
    store, the sample and the view (the export's output is then not written)."""
    for raw in records:
        sid = raw.sample["sample_id"]
        images = [
            ("full image", raw.image_bytes),
            (f"positive view {raw.positive_strategy!r}", raw.positive_bytes),
            *((f"negative view {s!r}", b) for s, b in raw.negative_bytes.items()),
            *((f"view {s!r}", b) for s, b in raw.extra_bytes.items()),
        ]
        for label, data in images:
            try:
                decode_image(data, label)
            except ImageDecodeError as exc:
                raise StoreError(f"{store.root}: sample {sid}: {exc}; nothing was exported") from None
        yield raw
