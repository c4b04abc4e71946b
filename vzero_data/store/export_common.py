"""What the exports share: choosing the view strategies, the records they write, the question as
every model is shown it, image files for the JSONL layouts, the output folder built beside its
place and renamed into it, and the export summary."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vzero_core.image_io import ImageDecodeError, decode_image
from vzero_data.store.layout import StoreError
from vzero_data.store.records import RawRecord, RecordCounts, iter_raw_records, require_one_config
from vzero_data.store.store import Store

__all__ = [
    "ExportSummary",
    "ImageFolder",
    "ShownQuestion",
    "choose_strategy",
    "count_uncurated",
    "decoded_records",
    "export_views",
    "has_placeholder",
    "open_records",
    "run_folder_export",
    "write_jsonl",
    "staged_folder",
    "require_one_config",
    "shown_question",
    "teacher_template",
    "view_strategies",
]


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
    """``requested`` if the store has it; else the only strategy of ``kind``, or, for negatives, the
    paper's default (``downsampled_distractor``, as training uses) when the store has it among
    several; any other ambiguity is an error naming the flag."""
    from vzero_data.views.registry import DEFAULT_NEGATIVE

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
    if len(known) > 1 and kind == "negative" and DEFAULT_NEGATIVE in known:
        return DEFAULT_NEGATIVE
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


@dataclass(frozen=True)
class ShownQuestion:
    """A stored sample's question as every model is shown it, with what a trainer's reward needs."""

    text: str  # the question text filling a template's {question}
    options: tuple[str, ...]  # the options in the order shown ("(A) ..." lines), empty when open
    answer: str  # the answer's letter in that order for a multiple-choice question, else the stored text


def shown_question(sample: dict[str, Any]) -> ShownQuestion:
    """The question of a samples row as training and evaluation show it
    (:func:`vzero_core.prompt_text.sample_question`), the options in that order and the answer's
    letter among them (the stored answer text when it is not one of the options)."""
    from vzero_core.choices import LETTERS, answer_index
    from vzero_core.prompt_text import sample_options, sample_question

    sid, options, answer = sample["sample_id"], sample["options"], sample["answer"] or ""
    shown = sample_options(options, sid)
    at = answer_index(answer, shown) if shown and answer else None
    return ShownQuestion(
        text=sample_question(sample["question"], options, sid),
        options=shown,
        answer=LETTERS[at] if at is not None else answer,
    )


def has_placeholder(question: str) -> bool:
    """Whether a stored question holds an ``<image>``/``<crop>`` tag: exports skip (and count) it,
    since a trainer would read the tag as one more image."""
    from vzero_core.prompt_text import CROP_TAG, IMAGE_TAG

    return IMAGE_TAG in question or CROP_TAG in question


def teacher_template(image_tag: str) -> str:
    """The teacher template (:data:`vzero_core.prompt_text.DEFAULT_TEACHER_TEMPLATE`) with its
    ``<crop>`` written as ``image_tag``: trainers that mark every image alike (ms-swift, verl's
    dataset) read the full image and then the crop from their image lists in that order."""
    from vzero_core.prompt_text import CROP_TAG, DEFAULT_TEACHER_TEMPLATE

    return DEFAULT_TEACHER_TEMPLATE.replace(CROP_TAG, image_tag)


class ImageFolder:
    """Encoded images written once each under ``root/subdir``, named by content hash (the extension
    from the image's own format), so a full image shared by many samples is one file. ``path``
    returns the name relative to ``root``, as the JSONL exports write it."""

    def __init__(self, root: Path, subdir: str) -> None:
        self.root, self.subdir = root, subdir
        (root / subdir).mkdir(parents=True, exist_ok=True)
        self._written: dict[str, str] = {}

    def path(self, data: bytes) -> str:
        import hashlib

        from vzero_core.image_io import probe_image

        digest = hashlib.sha256(data).hexdigest()
        if digest not in self._written:
            fmt = probe_image(data).format
            ext = {"jpeg": "jpg"}.get(fmt, fmt)
            rel = f"{self.subdir}/{digest[:32]}.{ext}"
            (self.root / rel).write_bytes(data)
            self._written[digest] = rel
        return self._written[digest]


def open_records(
    store: Store,
    fmt: str,
    out: str,
    *,
    negative_strategy: str | None,
    positive_strategy: str | None,
    config_hash: str | None,
    limit: int | None,
    audited_by: str | None = None,
    extra_strategies: list[str] | None = None,
) -> tuple[ExportSummary, Iterator[RawRecord]]:
    """The summary of an export to ``out`` and its records (images decoded before they are yielded),
    after the strategies are chosen and the store is checked (:func:`export_views`). With
    ``audited_by``, only views that audit accepted are written; ``extra_strategies`` are read beside
    the chosen negative (a sample lacking one is still written)."""
    negative, positive = export_views(store, negative_strategy, positive_strategy, config_hash, audited_by)
    summary = ExportSummary(fmt, out, positive, negative)
    records = iter_raw_records(
        store,
        [negative],
        config_hash,
        limit,
        counts=summary.counts,
        positive_strategy=positive,
        extra_strategies=extra_strategies,
        audited_by=audited_by,
    )
    return summary, decoded_records(records, store)


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A fresh folder beside ``out`` for the body to fill; renamed to ``out`` when the body returns,
    removed when it raises, so a failed export never leaves a partial output in place."""
    import os
    import shutil
    import tempfile

    if out.exists():
        raise StoreError(f"{out}: already exists; choose a new output folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield work / "out"
        os.replace(work / "out", out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_folder_export(
    store: Store,
    out: str | Path,
    fmt: str,
    write: Callable[[Iterator[RawRecord], Path, str], int],
    *,
    negative_strategy: str | None = None,
    positive_strategy: str | None = None,
    config_hash: str | None = None,
    limit: int | None = None,
    progress: bool = True,
    audited_by: str | None = None,
) -> ExportSummary:
    """An export whose output is one folder: ``write(records, folder, negative_strategy)`` fills
    ``folder`` and returns the rows written. Records whose question holds an image tag are skipped
    and counted; the folder appears at ``out`` only when ``write`` returns."""
    from vzero_core.progress import progress_bar

    out = Path(out)
    summary, records = open_records(
        store,
        fmt,
        str(out),
        negative_strategy=negative_strategy,
        positive_strategy=positive_strategy,
        config_hash=config_hash,
        limit=limit,
        audited_by=audited_by,
    )

    def kept(records: Iterator[RawRecord]) -> Iterator[RawRecord]:
        for raw in progress_bar(records, desc=f"export {fmt}", unit="rec", enabled=progress):
            if has_placeholder(raw.sample["question"]):
                summary.skipped_placeholder += 1
                continue
            yield raw

    with staged_folder(out) as folder:
        folder.mkdir()
        summary.written = write(kept(records), folder, summary.negative_strategy)
    summary.uncurated_samples = count_uncurated(store, config_hash)
    return summary


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """``rows`` as one JSON object a line (UTF-8, non-ASCII kept); returns the row count."""
    import json

    n = 0
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n
