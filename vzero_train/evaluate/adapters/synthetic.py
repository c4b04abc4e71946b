"""Synthetic scenes (``vzero-data synth``) or any generic JSONL manifest.

Each line has ``image`` (path relative to the manifest, or absolute), ``question``, ``options``
(optional: without them the question is open), ``answer`` (an option's text or letter) and
optionally ``id`` and a category field (``category``, else the synthetic ``kind``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from vzero_train.evaluate.adapters import register_adapter
from vzero_train.evaluate.items import EvalDataError, EvalItem, Skipped, answer_letter, image_from_file

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
    with open(manifest, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{manifest}:{line_no}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Skipped(f"line-{line_no}", benchmark, f"{where}: malformed JSON ({exc.msg})")
                continue
            item_id = str(row.get("id", f"line-{line_no}"))
            try:
                yield _item(row, item_id, benchmark, root, where)
            except EvalDataError as exc:
                yield Skipped(item_id, benchmark, str(exc))


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
