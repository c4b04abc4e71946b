"""Synthetic scenes (``vzero-data synth``) or any generic JSONL manifest.

Each line has ``image`` (path relative to the manifest, or absolute), ``question``, ``options``
(optional: without them the question is open), ``answer`` (an option's text or letter) and
optionally ``id`` and a category field (``category``, else the synthetic ``kind``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vzero_core.rows import Rejected, iter_jsonl
from vzero_data.benchmarks import register_adapter
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped, answer_letter, image_from_file

MANIFEST_NAME = "manifest.jsonl"


def _manifest_path(src: Path) -> Path:
    return src / MANIFEST_NAME if src.is_dir() else src


def _detect(src: Path) -> bool:
    return (src.is_dir() and (src / MANIFEST_NAME).is_file()) or (src.is_file() and src.suffix == ".jsonl")


@register_adapter(
    "synthetic",
    detect=_detect,
    description="vzero-data synth output or a generic JSONL manifest (image, question, options, answer)",
)
def read_manifest(
    src: Path, *, benchmark: str, image_root: Path | None = None
) -> Iterator[EvalItem | Skipped]:
    manifest = _manifest_path(src)
    if not manifest.is_file():
        raise EvalDataError(f"{src}: no {MANIFEST_NAME} found")
    root = image_root or manifest.parent
    for entry in iter_jsonl(manifest):
        if isinstance(entry, Rejected):  # key is "<manifest>:<line>"
            yield Skipped(_line_id(entry.key), benchmark, entry.detail)
            continue
        where, row = entry
        item_id = str(row.get("id", _line_id(where)))
        try:
            yield _item(row, item_id, benchmark, root, where)
        except EvalDataError as exc:
            yield Skipped(item_id, benchmark, str(exc))


def _line_id(where: str) -> str:
    """``line-N`` for a row located as ``<file>:<N>`` (the id of a row without one)."""
    return f"line-{where.rpartition(':')[2]}"


def _item(row: dict, item_id: str, benchmark: str, root: Path, where: str) -> EvalItem:
    for key in ("image", "question"):
        if not row.get(key):
            raise EvalDataError(f"{where}: missing field {key!r}")
    if row.get("answer") in (None, ""):
        raise EvalDataError(f"{where}: no answer label")
    options = tuple(str(o) for o in row.get("options") or ())
    answer = str(row["answer"])
    return EvalItem(
        item_id=item_id,
        benchmark=benchmark,
        question=str(row["question"]),
        answer=answer_letter(answer, options, where) if options else answer,
        options=options,
        load_image=image_from_file(root / row["image"]),
        category=str(row.get("category") or row.get("kind") or "all"),
        metadata={k: row[k] for k in ("target", "bbox", "source") if k in row},
    )
