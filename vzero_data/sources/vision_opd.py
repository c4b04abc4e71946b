"""Vision-OPD-6K (``yuanqianhao/Vision-OPD-6K``) in its released layout: ``train.jsonl`` with
``problem`` (``<image>`` and a ZwZ-style question: the red-box hint, "A. ..." option lines, an
instruction), ``images`` (the full image) and ``teacher_images`` (the region the teacher sees), both
lists of paths relative to the data folder (beside ``images/`` and ``teacher_images/``), ``answer``
and ``extra_info``. Read as Vision-OPD's own ``scripts/prepare_data.py`` reads it: the path joined to
the data folder, the question cleaned of ``<image>`` and of the hint.

The data set ships no box, only the teacher's image: a box given in ``extra_info.bbox`` (xyxy
pixels) is used, else the sample has none and curation grounds it. The teacher image's path is kept
in ``metadata.teacher_image``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vzero_core.fields import FieldError, option_answer
from vzero_core.rows import Rejected, SourceError, iter_jsonl
from vzero_data.sources.base import RawItem, SourceOptions, require_path
from vzero_data.sources.zwz import HINT, parse_zwz_box, split_problem

JSONL_NAME = "train.jsonl"
OWN_FIELDS = ("problem", "images", "teacher_images", "answer", "extra_info")


def _path_list(row: dict[str, Any], key: str) -> list[str]:
    value = row.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise FieldError(f"{key}: expected a list of image paths")
    return value


class VisionOpdSource:
    name = "vision_opd"
    description = "Vision-OPD-6K train.jsonl (problem, images, teacher_images, answer) under its data folder"

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        path = require_path(src)
        if path.is_dir():
            path = path / JSONL_NAME
            if not path.is_file():
                raise SourceError(f"{src}: no {JSONL_NAME} (expected Vision-OPD-6K's data folder)")
        return self._items(iter_jsonl(path))

    def _items(self, rows: Iterator[tuple[str, dict[str, Any]] | Rejected]) -> Iterator[RawItem | Rejected]:
        for n, entry in enumerate(rows):
            if isinstance(entry, Rejected):
                yield entry
                continue
            where, row = entry
            key = f"line-{n + 1}"
            try:
                if not isinstance(row, dict):
                    raise FieldError(f"expected a JSON object, got {type(row).__name__}")
                images = _path_list(row, "images")
                teacher = _path_list(row, "teacher_images")
                question, opts, instruction, had_hint = split_problem(row.get("problem"))
                answer = option_answer(row.get("answer"), opts)
                extra = row.get("extra_info") if isinstance(row.get("extra_info"), dict) else {}
                boxes = parse_zwz_box(extra.get("bbox")) if extra.get("bbox") is not None else []
            except FieldError as exc:
                yield Rejected(key, "bad_field", f"{where}: {exc}")
                continue
            yield RawItem(
                where=where,
                question=question,
                image_path=images[0],
                answer=answer,
                options=opts,
                boxes_xyxy=boxes,
                source=self.name,
                source_id=key,
                metadata={
                    "teacher_image": teacher[0],
                    "hint": HINT if had_hint else None,
                    "instruction": instruction,
                    "extra_info": extra,
                    **{k: v for k, v in row.items() if k not in OWN_FIELDS},
                },
            )
