"""Export to the upstream V-Zero trainer's Parquet (a verl fork): its exact columns (METHOD.md, section 6).

Per row: ``prompt`` (student messages; the user text holds one ``<image>``), ``images`` (the full image),
``teacher_raw_prompt`` (``<image>`` then ``<crop>``), ``teacher_images`` (the positive crop),
``teacher_neg_raw_prompt`` (the same text), ``teacher_neg_images`` (the chosen negative view),
optionally ``teacher_random_images``, ``reward_model`` (``ground_truth``, monitoring only),
``extra_info`` (``index``, ``question``, ``choices``, ``sample_id``) and ``data_source``. Images are
``{"bytes": ...}`` holding the stored encoded bytes (PNG/JPEG/WebP that PIL decodes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vzero_data.prompt_text import (
    CROP_TAG,
    DEFAULT_STUDENT_TEMPLATE,
    DEFAULT_TEACHER_TEMPLATE,
    IMAGE_TAG,
    fill_question,
)
from vzero_data.store.export_common import (
    ExportSummary,
    choose_strategy,
    count_uncurated,
    decoded_records,
    require_one_config,
)
from vzero_data.store.layout import StoreError
from vzero_data.store.records import RawRecord, iter_raw_records
from vzero_data.store.store import Store

ROW_GROUP_ROWS = 64

MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
IMAGE_LIST = pa.list_(pa.struct([("bytes", pa.binary())]))


def verl_schema(with_random: bool) -> pa.Schema:
    fields = [
        ("data_source", pa.string()),
        ("prompt", MESSAGES),
        ("images", IMAGE_LIST),
        ("teacher_raw_prompt", MESSAGES),
        ("teacher_images", IMAGE_LIST),
        ("teacher_neg_raw_prompt", MESSAGES),
        ("teacher_neg_images", IMAGE_LIST),
    ]
    if with_random:
        fields.append(("teacher_random_images", IMAGE_LIST))
    fields += [
        ("reward_model", pa.struct([("ground_truth", pa.string())])),
        (
            "extra_info",
            pa.struct(
                [
                    ("index", pa.int64()),
                    ("question", pa.string()),
                    ("choices", pa.list_(pa.string())),
                    ("sample_id", pa.string()),
                ]
            ),
        ),
    ]
    return pa.schema(fields)


def verl_row(
    raw: RawRecord, index: int, negative_strategy: str, random_strategy: str | None
) -> dict[str, Any]:
    s = raw.sample
    question = s["question"]
    teacher = [{"role": "user", "content": fill_question(DEFAULT_TEACHER_TEMPLATE, question)}]
    row = {
        "data_source": s["source"] or "vzero",
        "prompt": [{"role": "user", "content": fill_question(DEFAULT_STUDENT_TEMPLATE, question)}],
        "images": [{"bytes": raw.image_bytes}],
        "teacher_raw_prompt": teacher,
        "teacher_images": [{"bytes": raw.positive_bytes}],
        "teacher_neg_raw_prompt": teacher,
        "teacher_neg_images": [{"bytes": raw.negative_bytes[negative_strategy]}],
        "reward_model": {"ground_truth": s["answer"] or ""},
        "extra_info": {
            "index": index,
            "question": question,
            "choices": s["options"],
            "sample_id": s["sample_id"],
        },
    }
    if random_strategy is not None:
        row["teacher_random_images"] = [{"bytes": raw.extra_bytes[random_strategy]}]
    return row


def export_verl(
    store: Store,
    out: str | os.PathLike[str],
    *,
    negative_strategy: str | None = None,
    positive_strategy: str | None = None,
    random_strategy: str | None = None,
    config_hash: str | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> ExportSummary:
    """Write ``out`` (a .parquet file) atomically; samples lacking the chosen views are counted, not written."""
    from vzero_data.progress import progress_bar

    out = Path(out)
    if out.suffix != ".parquet":
        raise StoreError(f"{out}: the verl export writes one Parquet file; give a path ending in .parquet")
    require_one_config(store, config_hash)
    negative = choose_strategy(store, "negative", negative_strategy, config_hash)
    positive = choose_strategy(store, "positive", positive_strategy, config_hash)
    summary = ExportSummary("verl", str(out), positive, negative)
    schema = verl_schema(random_strategy is not None)
    records = iter_raw_records(
        store,
        [negative],
        config_hash,
        limit,
        counts=summary.counts,
        positive_strategy=positive,
        extra_strategies=[random_strategy] if random_strategy else None,
    )
    records = decoded_records(records, store)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    rows: list[dict[str, Any]] = []
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for raw in progress_bar(records, desc="export verl", unit="rec", enabled=progress):
                if IMAGE_TAG in raw.sample["question"] or CROP_TAG in raw.sample["question"]:
                    summary.skipped_placeholder += 1
                    continue
                rows.append(verl_row(raw, summary.written, negative, random_strategy))
                summary.written += 1
                if len(rows) >= ROW_GROUP_ROWS:
                    writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                    rows = []
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    summary.uncurated_samples = count_uncurated(store, config_hash)
    return summary
