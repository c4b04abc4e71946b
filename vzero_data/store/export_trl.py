"""Export for TRL's ``DistillationTrainer`` on vision-language models: a ``datasets`` folder
(``datasets.load_from_disk`` reads it back).

TRL's distillation trainers read a conversational prompt-only data set: ``prompt`` (chat messages)
and, for a VLM, ``images`` (the images filling the messages' ``{"type": "image"}`` placeholders in
order; TRL refuses a count that differs). Its teacher is scored on the student's own prompt and
images: TRL has no column for a teacher that sees other images, and the privileged-context path of
its self-distillation trainers (``privileged_context``) is text only. The teacher's view is
therefore written beside the student's, in the same message form, for a trainer that passes it on
(TRL drops columns it does not know):

- ``prompt``: ``[{"role": "user", "content": [{"type": "image"}, {"type": "text", "text":
  "\\n{question}"}]}]`` (the student template), ``images``: ``[full image]``;
- ``teacher_prompt``: the teacher template as messages, one image placeholder for the full image
  and one after the question for the crop; ``teacher_images``: ``[full image, positive crop]``;
- ``teacher_neg_images``: ``[full image, negative view]`` and ``teacher_neg_strategy``;
- ``sample_id``, ``source``, ``positive_box`` and, for evaluation only, ``eval_answer`` (the letter
  as shown for multiple choice).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_core.prompt_text import DEFAULT_STUDENT_TEMPLATE, DEFAULT_TEACHER_TEMPLATE
from vzero_core.vlm.prompts import build_messages
from vzero_data.store.export_common import ExportSummary, run_folder_export, shown_question
from vzero_data.store.records import RawRecord
from vzero_data.store.store import Store

IMAGE_LISTS = ("images", "teacher_images", "teacher_neg_images")


def trl_features() -> Any:
    import datasets

    content = datasets.List({"type": datasets.Value("string"), "text": datasets.Value("string")})
    messages = datasets.List({"role": datasets.Value("string"), "content": content})
    return datasets.Features(
        {
            "prompt": messages,
            "images": datasets.List(datasets.Image()),
            "teacher_prompt": messages,
            "teacher_images": datasets.List(datasets.Image()),
            "teacher_neg_images": datasets.List(datasets.Image()),
            "teacher_neg_strategy": datasets.Value("string"),
            "sample_id": datasets.Value("string"),
            "source": datasets.Value("string"),
            "positive_box": datasets.List(datasets.Value("float64")),
            "eval_answer": datasets.Value("string"),
        }
    )


def _messages(template: str, question: str) -> list[dict[str, Any]]:
    """Chat messages of ``template`` in the column form (every content part has ``type`` and ``text``)."""
    return [
        {"role": m["role"], "content": [{"type": p["type"], "text": p.get("text")} for p in m["content"]]}
        for m in build_messages(template, question)
    ]


def trl_row(raw: RawRecord, negative: str) -> dict[str, Any]:
    """One row for ``raw``; images are the stored encoded bytes."""
    s = raw.sample
    shown = shown_question(s)
    full = {"bytes": raw.image_bytes, "path": None}
    return {
        "prompt": _messages(DEFAULT_STUDENT_TEMPLATE, shown.text),
        "images": [full],
        "teacher_prompt": _messages(DEFAULT_TEACHER_TEMPLATE, shown.text),
        "teacher_images": [full, {"bytes": raw.positive_bytes, "path": None}],
        "teacher_neg_images": [full, {"bytes": raw.negative_bytes[negative], "path": None}],
        "teacher_neg_strategy": negative,
        "sample_id": s["sample_id"],
        "source": s["source"] or "",
        "positive_box": raw.positive_box,
        "eval_answer": shown.answer,
    }


def _row_bytes(row: dict[str, Any]) -> int:
    return sum(len(image["bytes"]) for key in IMAGE_LISTS for image in row[key])


def _write(records: Iterator[RawRecord], folder: Path, negative: str) -> int:
    from vzero_data.store.export_hf import write_dataset_folder

    folder.rmdir()  # the dataset writer creates its folder
    rows = (trl_row(raw, negative) for raw in records)
    return write_dataset_folder(rows, folder, features=trl_features(), row_bytes=_row_bytes)


def export_trl(store: Store, out: str | os.PathLike[str], **kwargs: Any) -> ExportSummary:
    """Write the TRL dataset folder at ``out`` (built beside it, then renamed into place); takes the
    keyword arguments of :func:`vzero_data.store.export_common.run_folder_export`."""
    return run_folder_export(store, out, "trl", _write, **kwargs)
