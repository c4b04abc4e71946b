"""Export in Vision-OPD's released data layout (the layout of its Vision-OPD-6K data set).

Output: a folder ``train.jsonl`` + ``images/`` + ``teacher_images/``, which Vision-OPD's own
``scripts/prepare_data.py --skip-download --data-dir <folder>`` turns into the Parquet its trainer
reads. One row per sample:

- ``problem``: ``"<image>\\n{question}"`` (the student template; one ``<image>`` for the one image);
- ``images``: ``[full image]`` and ``teacher_images``: ``[positive crop]``, paths relative to the
  folder. Vision-OPD's teacher sees the crop *in place of* the full image (its trainer swaps the
  prompt's images for ``teacher_images`` one for one and refuses a count that differs), unlike
  vzero's teacher, which sees the full image and the crop;
- ``answer``: the answer's letter as shown for multiple choice, else the stored text (Vision-OPD
  trains without it; it reaches only its reward bookkeeping);
- ``extra_info``: ``sample_id``, ``source``, ``question`` (as shown), ``options`` (as shown),
  ``positive_box`` (xyxy pixels), ``negative_strategy`` and the negative view's path (Vision-OPD
  has no negative replay; the view is kept for a gated trainer).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_core.prompt_text import DEFAULT_STUDENT_TEMPLATE, fill_question
from vzero_data.store.export_common import (
    ExportSummary,
    ImageFolder,
    run_folder_export,
    shown_question,
    write_jsonl,
)
from vzero_data.store.records import RawRecord
from vzero_data.store.store import Store

JSONL_NAME = "train.jsonl"


def vision_opd_row(
    raw: RawRecord, negative: str, images: ImageFolder, teacher_images: ImageFolder
) -> dict[str, Any]:
    """One Vision-OPD row for ``raw`` (its images written into the two folders)."""
    s = raw.sample
    shown = shown_question(s)
    return {
        "problem": fill_question(DEFAULT_STUDENT_TEMPLATE, shown.text),
        "images": [images.path(raw.image_bytes)],
        "teacher_images": [teacher_images.path(raw.positive_bytes)],
        "answer": shown.answer,
        "extra_info": {
            "sample_id": s["sample_id"],
            "source": s["source"] or "",
            "question": shown.text,
            "options": list(shown.options),
            "positive_box": raw.positive_box,
            "negative_strategy": negative,
            "negative_image": teacher_images.path(raw.negative_bytes[negative]),
        },
    }


def _write(records: Iterator[RawRecord], folder: Path, negative: str) -> int:
    images, teacher = ImageFolder(folder, "images"), ImageFolder(folder, "teacher_images")
    return write_jsonl(
        folder / JSONL_NAME, (vision_opd_row(raw, negative, images, teacher) for raw in records)
    )


def export_vision_opd(store: Store, out: str | os.PathLike[str], **kwargs: Any) -> ExportSummary:
    """Write the Vision-OPD folder at ``out`` (built beside it, then renamed into place); takes the
    keyword arguments of :func:`vzero_data.store.export_common.run_folder_export`."""
    return run_folder_export(store, out, "vision_opd", _write, **kwargs)
