"""Export to the upstream V-Zero trainer's Parquet (its fork of verl), which it runs unchanged.

Per row: ``prompt`` (student messages; the user text holds one ``<image>``), ``images`` (the full image),
``teacher_raw_prompt`` (``<image>`` then ``<crop>``), ``teacher_images`` (the positive crop),
``teacher_neg_raw_prompt`` (the same text), ``teacher_neg_images`` (the chosen negative view),
optionally ``teacher_random_images``, ``reward_model`` (``ground_truth``, monitoring only),
``extra_info`` (``index``, ``question``, ``choices``, ``sample_id``) and ``data_source``. Images are
``{"bytes": ...}`` holding the stored encoded bytes (PNG/JPEG/WebP that PIL decodes).

What upstream actually reads (its ``RLHFDataset`` and reward code): ``prompt``, ``images``,
``teacher_raw_prompt``, ``teacher_images``, ``teacher_neg_images`` (and ``teacher_random_images``
when its launcher names it); ``teacher_neg_raw_prompt`` is written but upstream rebuilds the
negative prompt from ``teacher_raw_prompt``; ``reward_model.ground_truth`` and ``data_source`` feed
a monitoring reward computed on every rollout, which raises ``NotImplementedError`` for a
``data_source`` it does not know; ``extra_info.index`` becomes the row's index and
``extra_info.question`` / ``choices`` reach its judge. ``data_source`` is therefore one name
upstream accepts (:data:`DEFAULT_DATA_SOURCE` unless ``data_source`` says otherwise), not the
store's source names. With ``options_in_prompt`` the lettered options are written into the
question text the student and teacher see (in an order fixed per sample, so a stored order that
puts the answer first does not leak it) and ``ground_truth`` is the answer's letter.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vzero_core.prompt_text import (
    CROP_TAG,
    DEFAULT_STUDENT_TEMPLATE,
    DEFAULT_TEACHER_TEMPLATE,
    IMAGE_TAG,
    fill_question,
)
from vzero_data.store.export_common import (
    ExportSummary,
    count_uncurated,
    open_records,
    shown_question,
)
from vzero_data.store.records import RawRecord
from vzero_data.store.store import Store

ROW_GROUP_ROWS = 64
# Upstream scores ``zwz_vqa`` locally (the \\boxed{} answer against ground_truth, no network);
# ``vstar``, ``hr_bench`` and ``mme_realworld`` go to an external judge API it must be configured for.
UPSTREAM_DATA_SOURCES = ("zwz_vqa", "hiyouga/geometry3k", "vstar", "hr_bench", "mme_realworld")
DEFAULT_DATA_SOURCE = "zwz_vqa"

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


def prompt_question(sample: dict[str, Any], options_in_prompt: bool) -> tuple[str, list[str] | None, str]:
    """The question text shown to student and teacher, the choices in the order shown, and the
    ground truth: with ``options_in_prompt`` the options in the sample's fixed order written as
    "(A) ..." lines after the question and the answer's letter; else the question, the stored
    options and the stored answer."""
    question, options, answer = sample["question"], sample["options"], sample["answer"] or ""
    if not options_in_prompt or not options:
        return question, options, answer
    shown = shown_question(sample)  # the one question builder training and evaluation use
    return shown.text, list(shown.options), shown.answer


def verl_row(
    raw: RawRecord,
    index: int,
    negative_strategy: str,
    random_strategy: str | None,
    *,
    data_source: str = DEFAULT_DATA_SOURCE,
    options_in_prompt: bool = False,
) -> dict[str, Any]:
    s = raw.sample
    text, choices, ground_truth = prompt_question(s, options_in_prompt)
    teacher = [{"role": "user", "content": fill_question(DEFAULT_TEACHER_TEMPLATE, text)}]
    row = {
        "data_source": data_source,
        "prompt": [{"role": "user", "content": fill_question(DEFAULT_STUDENT_TEMPLATE, text)}],
        "images": [{"bytes": raw.image_bytes}],
        "teacher_raw_prompt": teacher,
        "teacher_images": [{"bytes": raw.positive_bytes}],
        "teacher_neg_raw_prompt": teacher,
        "teacher_neg_images": [{"bytes": raw.negative_bytes[negative_strategy]}],
        "reward_model": {"ground_truth": ground_truth},
        "extra_info": {
            "index": index,
            "question": s["question"],
            "choices": choices,
            "sample_id": s["sample_id"],
        },
    }
    if random_strategy is not None:
        row["teacher_random_images"] = [{"bytes": raw.extra_bytes[random_strategy]}]
    return row


DEFAULT_FILE_NAME = "train.parquet"  # what upstream's recipes name their data.train_files


def verl_output_file(out: str | os.PathLike[str]) -> Path:
    """The Parquet file the verl export writes for ``--out``: the path itself when it ends in
    ``.parquet``, else ``train.parquet`` inside that folder."""
    out = Path(out)
    return out if out.suffix == ".parquet" else out / DEFAULT_FILE_NAME


def export_verl(
    store: Store,
    out: str | os.PathLike[str],
    *,
    negative_strategy: str | None = None,
    positive_strategy: str | None = None,
    random_strategy: str | None = None,
    config_hash: str | None = None,
    limit: int | None = None,
    audited_by: str | None = None,
    progress: bool = True,
    data_source: str = DEFAULT_DATA_SOURCE,
    options_in_prompt: bool = False,
) -> ExportSummary:
    """Write ``out`` (a .parquet file, or a folder: ``out/train.parquet``) atomically; samples
    lacking the chosen views are counted, not written. ``data_source`` is written on every row (see the module docstring for why it must be a
    name upstream knows); ``options_in_prompt`` shows the lettered options to the policy."""
    from vzero_core.progress import progress_bar

    out = verl_output_file(out)
    summary, records = open_records(
        store,
        "verl",
        str(out),
        negative_strategy=negative_strategy,
        positive_strategy=positive_strategy,
        config_hash=config_hash,
        limit=limit,
        audited_by=audited_by,
        extra_strategies=[random_strategy] if random_strategy else None,
    )
    negative = summary.negative_strategy
    schema = verl_schema(random_strategy is not None)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    rows: list[dict[str, Any]] = []
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for raw in progress_bar(records, desc="export verl", unit="rec", enabled=progress):
                if IMAGE_TAG in raw.sample["question"] or CROP_TAG in raw.sample["question"]:
                    summary.skipped_placeholder += 1
                    continue
                rows.append(
                    verl_row(
                        raw,
                        summary.written,
                        negative,
                        random_strategy,
                        data_source=data_source,
                        options_in_prompt=options_in_prompt,
                    )
                )
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
