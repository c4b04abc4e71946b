"""Export to a Hugging Face ``datasets`` dataset on disk (``datasets.load_from_disk`` reads it back).

Columns: ``sample_id``, ``question``, ``image``, ``positive``, ``negative`` (Image features, the stored
encoded bytes), ``negative_strategy``, ``positive_strategy``, ``positive_box`` (xyxy pixels),
``target``, ``source``, ``config_hash``, ``metadata`` (JSON text) and, for evaluation only,
``eval_answer`` / ``eval_options``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from vzero_data.store.export_common import ExportSummary, count_uncurated, open_records, staged_folder
from vzero_data.store.store import Store

MAX_SHARD_BYTES = 500 << 20  # save_to_disk's default shard size


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
    from vzero_core.progress import progress_bar

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


def _image_bytes(row: dict[str, Any]) -> int:
    return sum(len(row[k]["bytes"]) for k in ("image", "positive", "negative"))


def write_dataset_folder(
    rows: Iterator[dict[str, Any]],
    folder: Path,
    *,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    features: Any = None,
    row_bytes: Callable[[dict[str, Any]], int] = _image_bytes,
) -> int:
    """Stream ``rows`` into ``folder`` in the layout ``Dataset.save_to_disk`` writes (Arrow shards
    ``data-NNNNN-of-MMMMM.arrow``, ``state.json``, ``dataset_info.json``); returns the row count.
    ``features`` defaults to this export's (:func:`hf_features`); ``row_bytes`` sizes a row's images
    for the shard limit.

    Rows go straight into the shards with the writer ``save_to_disk`` uses; nothing is read back,
    so memory stays flat however large the export (saving a ``Dataset`` opened from one big Arrow
    file pages the whole file into memory through its memory map).
    """
    from datasets import DatasetInfo
    from datasets.arrow_writer import ArrowWriter
    from datasets.fingerprint import generate_random_fingerprint
    from datasets.utils.py_utils import asdict

    features = features if features is not None else hf_features()
    folder.mkdir(parents=True)
    parts: list[Path] = []
    writer = None
    n = shard_bytes = 0
    try:
        for row in rows:
            if writer is None or shard_bytes >= max_shard_bytes:
                if writer is not None:
                    writer.finalize()
                    writer.close()
                parts.append(folder / f"part-{len(parts):05d}.arrow")
                writer, shard_bytes = ArrowWriter(features=features, path=str(parts[-1])), 0
            writer.write(row)
            shard_bytes += row_bytes(row)
            n += 1
        if writer is None:  # no rows: one empty shard, as save_to_disk writes for an empty dataset
            parts.append(folder / "part-00000.arrow")
            writer = ArrowWriter(features=features, path=str(parts[-1]))
        writer.finalize()
    finally:
        if writer is not None:
            writer.close()
    names = [f"data-{i:05d}-of-{len(parts):05d}.arrow" for i in range(len(parts))]
    for part, name in zip(parts, names, strict=True):
        part.rename(folder / name)
    state = {
        "_data_files": [{"filename": name} for name in names],
        "_fingerprint": generate_random_fingerprint(),
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": None,
    }
    (folder / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    info = asdict(DatasetInfo(features=features))
    (folder / "dataset_info.json").write_text(
        json.dumps({key: info[key] for key in sorted(info)}, indent=2), encoding="utf-8"
    )
    return n


def export_hf(
    store: Store,
    out: str | os.PathLike[str],
    *,
    negative_strategy: str | None = None,
    positive_strategy: str | None = None,
    config_hash: str | None = None,
    limit: int | None = None,
    audited_by: str | None = None,
    progress: bool = True,
) -> ExportSummary:
    """Write a ``datasets`` dataset folder at ``out`` (built beside it, then renamed into place)."""
    summary, records = open_records(
        store,
        "hf",
        str(out),
        negative_strategy=negative_strategy,
        positive_strategy=positive_strategy,
        config_hash=config_hash,
        limit=limit,
        audited_by=audited_by,
    )
    with staged_folder(Path(out)) as folder:
        write_dataset_folder(_rows(records, summary.negative_strategy, summary, progress), folder)
    summary.uncurated_samples = count_uncurated(store, config_hash)
    return summary
