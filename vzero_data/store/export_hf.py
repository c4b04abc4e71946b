"""Export to a Hugging Face ``datasets`` dataset on disk (``datasets.load_from_disk`` reads it back).

Columns: ``sample_id``, ``question``, ``image``, ``positive``, ``negative`` (Image features, the stored
encoded bytes), ``negative_strategy``, ``positive_strategy``, ``positive_box`` (xyxy pixels),
``target``, ``source``, ``config_hash``, ``metadata`` (JSON text) and, for evaluation only,
``eval_answer`` / ``eval_options``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_data.store.export_common import (
    ExportSummary,
    choose_strategy,
    count_uncurated,
    decoded_records,
    require_one_config,
)
from vzero_data.store.layout import StoreError
from vzero_data.store.records import iter_raw_records
from vzero_data.store.store import Store


def hf_features() -> Any:
    import datasets

    return datasets.Features(
        {
            "sample_id": datasets.Value("string"),
            "question": datasets.Value("string"),
            "image": datasets.Image(),
            "positive": datasets.Image(),
            "negative": datasets.Image(),
            "positive_strategy": datasets.Value("string"),
            "negative_strategy": datasets.Value("string"),
            "positive_box": datasets.List(datasets.Value("float64")),
            "target": datasets.Value("string"),
            "source": datasets.Value("string"),
            "config_hash": datasets.Value("string"),
            "metadata": datasets.Value("string"),
            "eval_answer": datasets.Value("string"),
            "eval_options": datasets.List(datasets.Value("string")),
        }
    )


def _rows(
    records: Iterator, negative: str, summary: ExportSummary, progress: bool
) -> Iterator[dict[str, Any]]:
    from vzero_data.progress import progress_bar

    for raw in progress_bar(records, desc="export hf", unit="rec", enabled=progress):
        s = raw.sample
        summary.written += 1
        yield {
            "sample_id": s["sample_id"],
            "question": s["question"],
            "image": {"bytes": raw.image_bytes, "path": None},
            "positive": {"bytes": raw.positive_bytes, "path": None},
            "negative": {"bytes": raw.negative_bytes[negative], "path": None},
            "positive_strategy": raw.positive_strategy,
            "negative_strategy": negative,
            "positive_box": raw.positive_box,
            "target": s["target"],
            "source": s["source"],
            "config_hash": raw.config_hash,
            "metadata": s["metadata"],
            "eval_answer": s["answer"],
            "eval_options": s["options"],
        }


def export_hf(
    store: Store,
    out: str | os.PathLike[str],
    *,
    negative_strategy: str | None = None,
    positive_strategy: str | None = None,
    config_hash: str | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> ExportSummary:
    """Write a ``datasets`` dataset folder at ``out`` (built beside it, then renamed into place)."""
    import datasets
    from datasets.arrow_writer import ArrowWriter

    out = Path(out)
    if out.exists():
        raise StoreError(f"{out}: already exists; choose a new output folder")
    require_one_config(store, config_hash)
    negative = choose_strategy(store, "negative", negative_strategy, config_hash)
    positive = choose_strategy(store, "positive", positive_strategy, config_hash)
    summary = ExportSummary("hf", str(out), positive, negative)
    records = iter_raw_records(
        store, [negative], config_hash, limit, counts=summary.counts, positive_strategy=positive
    )
    records = decoded_records(records, store)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        # Stream rows through an Arrow file (bounded memory), then save it in the datasets layout.
        arrow_path = work / "data.arrow"
        with ArrowWriter(features=hf_features(), path=str(arrow_path)) as writer:
            for row in _rows(records, negative, summary, progress):
                writer.write(row)
            writer.finalize()
        ds = datasets.Dataset.from_file(str(arrow_path))
        ds.save_to_disk(str(work / "dataset"))
        os.replace(work / "dataset", out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary.uncurated_samples = count_uncurated(store, config_hash)
    return summary
