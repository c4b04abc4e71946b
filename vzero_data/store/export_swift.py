"""Export for ms-swift's GKD/OPD trainers (``swift rlhf --rlhf_type gkd``), with ``teacher_images``.

Output: a folder with ``train.jsonl`` and ``images/`` (each encoded image once, named by content).
One row per sample, in the layout ms-swift's dataset preprocessor keeps (its ``RowPreprocessor``
standard keys) and its on-policy sample builds the teacher view from:

- ``messages``: the student's turn, ``[{"role": "user", "content": "<image>\\n{question}"}]``
  (no assistant turn: V-Zero uses no label, so train with ``--lmbda 1``, every batch on-policy);
- ``images``: ``[full image]``, paths relative to the folder (``ROOT_IMAGE_DIR=<folder>``, or run
  from it: ms-swift resolves a relative path against the working directory, then ROOT_IMAGE_DIR);
- ``teacher_prompt``: the teacher's text, which ms-swift puts in place of the last user message:
  the teacher template with both images written ``<image>`` (full image first, crop after it);
- ``teacher_images``: ``[full image, positive crop]``: ms-swift gives the teacher these instead of
  the student's images (its PR 10015), one per ``<image>`` of ``teacher_prompt``;
- ``teacher_neg_images`` / ``teacher_neg_strategy``: the negative view in the crop's place, for a
  gated trainer (ms-swift passes unknown columns through and does not read these);
- ``solution``: the answer (the letter as shown for multiple choice), for a monitoring reward only;
- ``sample_id``, ``source``, ``positive_box`` (xyxy pixels of the original image).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_core.prompt_text import DEFAULT_STUDENT_TEMPLATE, IMAGE_TAG, fill_question
from vzero_data.store.export_common import (
    ExportSummary,
    ImageFolder,
    run_folder_export,
    shown_question,
    teacher_template,
    write_jsonl,
)
from vzero_data.store.records import RawRecord
from vzero_data.store.store import Store

JSONL_NAME = "train.jsonl"


def swift_row(raw: RawRecord, negative: str, images: ImageFolder) -> dict[str, Any]:
    """One ms-swift row for ``raw`` (its images written into ``images``)."""
    s = raw.sample
    shown = shown_question(s)
    full = images.path(raw.image_bytes)
    return {
        "messages": [{"role": "user", "content": fill_question(DEFAULT_STUDENT_TEMPLATE, shown.text)}],
        "images": [full],
        "teacher_prompt": fill_question(teacher_template(IMAGE_TAG), shown.text),
        "teacher_images": [full, images.path(raw.positive_bytes)],
        "teacher_neg_images": [full, images.path(raw.negative_bytes[negative])],
        "teacher_neg_strategy": negative,
        "solution": shown.answer,
        "sample_id": s["sample_id"],
        "source": s["source"] or "",
        "positive_box": raw.positive_box,
    }


def _write(records: Iterator[RawRecord], folder: Path, negative: str) -> int:
    images = ImageFolder(folder, "images")
    return write_jsonl(folder / JSONL_NAME, (swift_row(raw, negative, images) for raw in records))


def export_swift(store: Store, out: str | os.PathLike[str], **kwargs: Any) -> ExportSummary:
    """Write the ms-swift folder at ``out`` (built beside it, then renamed into place); takes the
    keyword arguments of :func:`vzero_data.store.export_common.run_folder_export`."""
    return run_folder_export(store, out, "swift", _write, **kwargs)
