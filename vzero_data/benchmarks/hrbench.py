"""HR-Bench 4K / 8K: a TSV as published, or VLMEvalKit's ``<name>_local.tsv``.

Columns: ``index``, ``image`` (base64), ``question``, ``A``..``D``, ``answer`` (a letter),
``category`` (``single`` / ``cross``) and ``cycle_category`` (which option rotation the row is):
each base question appears once per rotation of its options. Read with standard double-quote
quoting (a quoted cell may hold tabs, quotes and line breaks; VLMEvalKit's writer quotes every
field). For files over 1 GB (HR-Bench 8K) VLMEvalKit writes ``<name>_local.tsv``: the images
decoded to files and an ``image_path`` column instead of ``image`` (absolute, or relative to
``--image-root``, the TSV's folder, or ``images/<name>/`` beside it). An ``image`` cell that holds
the ``index`` of an earlier row (VLMEvalKit's way of storing a shared image once) reuses that
row's image. Rows stream and images decode only when evaluated: an 8K TSV is gigabytes.

Every item carries its base question (question and option set) as its rotation group, so the
report gives, besides plain accuracy, the cycle score (a base question counts only when all its
rotations are answered correctly) and the mean over rotations of each rotation's accuracy, which
is the number HR-Bench's own scripts, lmms-eval and VLMEvalKit report.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

from vzero_core.rows import Rejected, SourceError, iter_csv
from vzero_data.benchmarks import register_adapter
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped, image_from_bytes, image_from_file

OPTION_COLUMNS = ("A", "B", "C", "D", "E", "F")
REQUIRED = ("index", "question", "answer", "A", "B")
PROTOCOL = "HR-Bench TSV: options A-D as given; cycle score over option rotations"
SHARED_IMAGE_MAX_CHARS = 64  # VLMEvalKit: an image cell this short names another row's index


def tsv_header(src: Path) -> list[str]:
    """The header row of a TSV (standard quoting)."""
    csv.field_size_limit(2**31 - 1)
    with open(src, encoding="utf-8-sig", errors="replace", newline="") as fh:
        return next(csv.reader(fh, delimiter="\t"), [])


def _detect(src: Path) -> bool:
    return src.is_file() and src.suffix.lower() == ".tsv" and "l2-category" not in tsv_header(src)


@register_adapter(
    "hrbench",
    detect=_detect,
    description="HR-Bench TSV (base64 images or VLMEvalKit's _local.tsv image_path, options A-D)",
)
def read_hrbench(
    src: Path, *, benchmark: str, image_root: Path | None = None
) -> Iterator[EvalItem | Skipped]:
    header = tsv_header(src)
    missing = [c for c in REQUIRED if c not in header]
    if missing or not ({"image", "image_path"} & set(header)):
        raise EvalDataError(
            f"{src}: not an HR-Bench TSV, missing columns {missing or ['image or image_path']} (has {header})"
        )
    shared = _shared_image_indices(src) if "image" in header else set()
    kept: dict[str, str] = {}
    try:
        for entry in iter_csv(src, delimiter="\t"):
            if isinstance(entry, Rejected):
                yield Skipped(entry.key.rpartition(":")[2], benchmark, entry.detail)
                continue
            where, row = entry
            item_id = row.get("index") or f"row-{where.rpartition(':')[2]}"
            if item_id in shared and row.get("image"):
                kept[item_id] = row["image"]
            try:
                yield _item(row, item_id, benchmark, where, src, image_root, kept)
            except EvalDataError as exc:
                yield Skipped(item_id, benchmark, str(exc))
    except SourceError as exc:
        raise EvalDataError(str(exc)) from exc


def _shared_image_indices(src: Path) -> set[str]:
    """Indices that other rows' short ``image`` cells point at (a first pass over the file)."""
    refs = set()
    for entry in iter_csv(src, delimiter="\t"):
        if not isinstance(entry, Rejected):
            image = entry[1].get("image") or ""
            if len(image) <= SHARED_IMAGE_MAX_CHARS:
                refs.add(image.strip())
    return refs


def _item(
    row: dict[str, str | None],
    item_id: str,
    benchmark: str,
    where: str,
    src: Path,
    image_root: Path | None,
    kept: dict[str, str],
) -> EvalItem:
    options = []
    for column in OPTION_COLUMNS:
        text = (row.get(column) or "").strip()
        if not text or text.lower() == "nan":
            break
        options.append(text)
    question = (row.get("question") or "").strip()
    if not question:
        raise EvalDataError(f"{where}: empty question")
    rotation = (row.get("cycle_category") or "").strip()
    group = hashlib.sha256("\x1f".join([question, *sorted(options)]).encode()).hexdigest()[:16]
    return EvalItem(
        item_id=item_id,
        benchmark=benchmark,
        question=question,
        answer=(row.get("answer") or "").strip().upper(),
        options=tuple(options),
        load_image=_image(row, where, src, image_root, kept),
        category=(row.get("category") or "all").strip(),
        metadata={
            "cycle_category": rotation,
            "rotation_group": group,
            "rotation": rotation,
            "protocol": PROTOCOL,
        },
    )


def _image(row, where: str, src: Path, image_root: Path | None, kept: dict[str, str]):
    cell = row.get("image")
    if cell:
        if len(cell) <= SHARED_IMAGE_MAX_CHARS:
            if cell.strip() not in kept:
                raise EvalDataError(
                    f"{where}: image refers to row index {cell.strip()!r}, not found before it"
                )
            cell = kept[cell.strip()]
        try:
            return image_from_bytes(base64.b64decode(cell, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise EvalDataError(f"{where}: column 'image' is not valid base64 ({exc})") from exc
    path = (row.get("image_path") or "").strip()
    if path.startswith("[") and path.endswith("]"):  # VLMEvalKit writes a list for several images
        path = path[1:-1].split(",")[0].strip().strip("'\"")
    if not path:
        raise EvalDataError(f"{where}: neither 'image' nor 'image_path' given")
    name = src.stem.removesuffix("_local")
    candidates = (
        [Path(path)]
        if Path(path).is_absolute()
        else [(image_root or src.parent) / path, src.parent / "images" / name / path]
    )
    for candidate in candidates:
        if candidate.is_file():
            return image_from_file(candidate)
    raise EvalDataError(
        f"{where}: image_path {path!r} not found (absolute, under {image_root or src.parent}, or images/{name}/)"
    )
