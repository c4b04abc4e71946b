"""A vzero store: the ``samples`` and ``images`` Parquet shards under ``STORE/shards/*/``.

Samples with options are multiple choice (the stored answer is an option's text or letter), others
open. The category is ``metadata.category``, else ``metadata.kind``, else the sample's ``source``.
Samples without an answer label are skipped and reported. Images are fetched from the shards a chunk
of samples at a time, so memory stays bounded whatever the store's size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_train.evaluate.adapters import register_adapter
from vzero_train.evaluate.items import EvalDataError, EvalItem, Skipped, answer_letter, image_from_bytes

CHUNK = 64


def _shard_files(src: Path, table: str) -> list[str]:
    """The table's published shard files. Listed here, not globbed by DuckDB, whose ``*`` would also
    match a writer's hidden ``shards/.tmp-*`` batch in progress."""
    return sorted(
        p.as_posix() for p in (src / "shards").glob(f"*/{table}.parquet") if not p.parent.name.startswith(".")
    )


def _sql_list(files: list[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def _detect(src: Path) -> bool:
    return src.is_dir() and (src / "shards").is_dir()


@register_adapter("store", detect=_detect, description="vzero store (Parquet shards of samples and images)")
def read_store(src: Path, *, benchmark: str, image_root: Path | None = None) -> Iterator[EvalItem | Skipped]:
    import duckdb

    samples_files = _shard_files(src, "samples") if _detect(src) else []
    if not samples_files:
        raise EvalDataError(f"{src}: not a vzero store with samples (no shards/*/samples.parquet)")
    images_files = _shard_files(src, "images")
    con = duckdb.connect()
    try:
        samples = con.execute(
            f"""SELECT DISTINCT ON (sample_id) sample_id, image_sha256, question, answer, options, metadata, source
                FROM read_parquet({_sql_list(samples_files)}, union_by_name = true)
                ORDER BY sample_id"""
        )
        images = con.cursor()
        while rows := samples.fetchmany(CHUNK):
            hashes = sorted({r[1] for r in rows if r[1]})
            found = (
                dict(
                    images.execute(
                        f"""SELECT sha256, any_value(bytes) FROM read_parquet({_sql_list(images_files)}, union_by_name = true)
                            WHERE list_contains(?, sha256) GROUP BY sha256""",
                        [hashes],
                    ).fetchall()
                )
                if images_files
                else {}
            )
            for row in rows:
                try:
                    yield _item(row, found, benchmark, f"{src} sample {row[0]!r}")
                except EvalDataError as exc:
                    yield Skipped(str(row[0]), benchmark, str(exc))
    finally:
        con.close()


def _item(row: tuple[Any, ...], images: dict[str, bytes], benchmark: str, where: str) -> EvalItem:
    sample_id, sha, question, answer, options, metadata, source = row
    if answer is None or str(answer).strip() == "":
        raise EvalDataError(f"{where}: no answer label")
    if sha not in images:
        raise EvalDataError(f"{where}: image {sha} not in the images table")
    try:
        meta = json.loads(metadata) if metadata else {}
    except json.JSONDecodeError as exc:
        raise EvalDataError(f"{where}: metadata is not JSON ({exc.msg})") from exc
    options = tuple(str(o) for o in options or ())
    meta = meta if isinstance(meta, dict) else {}
    return EvalItem(
        item_id=str(sample_id),
        benchmark=benchmark,
        question=str(question or ""),
        answer=answer_letter(str(answer), options, where) if options else str(answer),
        options=options,
        load_image=image_from_bytes(images[sha]),
        category=str(meta.get("category") or meta.get("kind") or source or "all"),
        metadata={"source": source},
    )
