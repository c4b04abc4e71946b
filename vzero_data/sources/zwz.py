"""ZwZ ("Zooming without Zooming", region-to-image distilled VQA; ``inclusionAI/ZwZ-RL-VQA``) as its
authors' scripts write it: ``train.parquet`` with ``images`` (a list holding one image path, the
full image with the evidence box drawn on it in red), ``problem``, ``answer`` (the correct option's
letter), ``bbox`` (the evidence box, xyxy pixels of the image; the crop script writes it as the text
``"(x1,y1,x2,y2)"``, a list is read too) and ``status``. Image paths are relative to the Parquet's
folder (``--image-root`` otherwise), as EasyR1's ``image_dir`` joins them.

``problem`` is the question, the hint the answer generator was given ("Only focus on the objects
inside the red bounding box in the image to answer this question."), the options as "A. ..." lines
and an instruction. The hint is removed from the stored question (kept in ``metadata.hint``), as
Vision-OPD's preparation does; the options and the instruction are split off. Note that the images
carry the drawn box: crops and negative views cut from them show it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from vzero_core.choices import LETTERS
from vzero_core.fields import FieldError, option_answer, parse_boxes
from vzero_core.rows import Rejected, iter_parquet
from vzero_data.sources.base import RawItem, SourceOptions, require_path

HINT = "Only focus on the objects inside the red bounding box in the image to answer this question."
IMAGE_TAG = "<image>"
_OPTION_LINE = re.compile(r"^\s*\(?([A-Z])\s*[.):]\s*(.*\S)\s*$")
OWN_FIELDS = ("images", "problem", "answer", "bbox")


def split_problem(problem: str) -> tuple[str, list[str] | None, str, bool]:
    """``(question, options, instruction, had_hint)`` of a ZwZ-style problem: ``<image>`` tags and the
    red-box hint removed, "A. ..." option lines (consecutive, lettered A, B, ...) split off."""
    text = str(problem or "").replace(IMAGE_TAG, "")
    had_hint = HINT in text
    text = text.replace(HINT, "")
    lines = text.split("\n")
    start = next(
        (i for i, line in enumerate(lines) if (m := _OPTION_LINE.match(line)) and m.group(1) == "A"), None
    )
    if start is None:
        return text.strip(), None, "", had_hint
    options, end = [], start
    while end < len(lines) and (m := _OPTION_LINE.match(lines[end])) and m.group(1) == LETTERS[len(options)]:
        options.append(m.group(2))
        end += 1
    if len(options) < 2:
        return text.strip(), None, "", had_hint
    return "\n".join(lines[:start]).strip(), options, "\n".join(lines[end:]).strip(), had_hint


def parse_zwz_box(value: Any) -> list[list[float]]:
    """``"(x1,y1,x2,y2)"`` (the crop script's text) or a list: xyxy pixel boxes."""
    if isinstance(value, str) and value.strip().startswith("("):
        try:
            value = [list(ast.literal_eval(value.strip()))]
        except (ValueError, SyntaxError) as exc:
            raise FieldError(f"bbox: {value!r} is not a box") from exc
    return parse_boxes(value, "bbox")


class ZwzSource:
    name = "zwz"
    description = "ZwZ-RL-VQA train.parquet (images, problem with A. options, answer letter, bbox xyxy)"

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        path = require_path(src)
        if path.is_dir() and (path / "train.parquet").is_file():
            path = path / "train.parquet"
        return self._items(iter_parquet(path))

    def _items(self, rows: Iterator[tuple[str, dict[str, Any]] | Rejected]) -> Iterator[RawItem | Rejected]:
        for n, entry in enumerate(rows):
            if isinstance(entry, Rejected):
                yield entry
                continue
            where, row = entry
            key = f"row-{n}"
            try:
                images = row.get("images")
                if not isinstance(images, (list, tuple)) or not images or not isinstance(images[0], str):
                    raise FieldError("images: expected a list holding one image path")
                question, opts, instruction, had_hint = split_problem(row.get("problem"))
                boxes = parse_zwz_box(row.get("bbox"))
                answer = option_answer(row.get("answer"), opts)
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
                    "hint": HINT if had_hint else None,
                    "instruction": instruction,
                    "overlay": "red evidence box drawn on the image",
                    **{k: v for k, v in row.items() if k not in OWN_FIELDS},
                },
            )
