"""Visual-CoT, in the two layouts its repository ships.

Training metadata (``.jsonl``): one object per line with ``dataset``, ``split``, ``image`` (relative
to --image-root), ``question``, ``answer``, ``bboxs`` (list of xyxy pixel boxes), ``width``,
``height``.

Benchmark files (``viscot_benchmark/benchmark/<ds>.json``): one pretty-printed JSON list in LLaVA
form. ``image`` is ``["cot/<ds>/x.jpg", "cot/<ds>/x.jpg###[x1, y1, x2, y2]"]`` (or one string): the
box rides only in the image string, in pixels of the original image. ``conversations`` holds the
human question (with an ``<image>`` tag and a request for the box's coordinates, both removed),
the model's normalized box, the crop's ``<image>`` turn and the answer (the last gpt turn). The
shipped files hold zero-area boxes and boxes past the image edge: boxes are clipped to the image
and an empty one dropped, with a note in the sample's metadata, instead of rejecting the question.
Image paths are relative to --image-root (textcap's images live under textvqa).
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_core.fields import FieldError, optional_str, parse_boxes
from vzero_core.rows import Rejected, SourceError, bad_utf8_in, iter_jsonl, read_json_file
from vzero_data.sources.base import RawItem, SourceOptions, require_path

OWN_FIELDS = ("image", "question", "answer", "bboxs", "width", "height", "dataset")
BENCHMARK_OWN_FIELDS = ("image", "conversations", "width", "height", "dataset", "question_id")
_BOX_REQUEST = re.compile(r"\s*Please provide the bounding box coordinate.*$", re.S)
_IMAGE_TAG = re.compile(r"<image>\s*")


class VisualCotSource:
    name = "visual_cot"
    description = (
        "Visual-CoT: training meta JSONL (bboxs xyxy) or a benchmark <ds>.json (LLaVA form, box in 'image')"
    )

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        path = require_path(src, want_dir=False)
        if path.suffix.lower() == ".json":
            try:
                entries = read_json_file(path)
            except json.JSONDecodeError as exc:
                raise SourceError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from exc
            if not isinstance(entries, list):
                raise SourceError(
                    f"{path}: expected a Visual-CoT benchmark file (a JSON list), got {type(entries).__name__}"
                )
            return self._benchmark_items(path, entries)
        return self._meta_items(path)

    def _meta_items(self, path: Path) -> Iterator[RawItem | Rejected]:
        for entry in iter_jsonl(path):
            if isinstance(entry, Rejected):
                yield entry
                continue
            where, row = entry
            try:
                boxes = parse_boxes(row.get("bboxs"), "bboxs")
                size = _declared_size(row)
            except (FieldError, TypeError, ValueError) as exc:
                yield Rejected(where, "bad_field", f"{where}: {exc}")
                continue
            dataset = optional_str(row.get("dataset"))
            yield RawItem(
                where=where,
                question=row.get("question"),
                image_path=row.get("image"),
                answer=optional_str(row.get("answer")),
                boxes_xyxy=boxes,
                source=f"{self.name}/{dataset}" if dataset else self.name,
                declared_size=size,
                metadata={k: v for k, v in row.items() if k not in OWN_FIELDS},
            )

    def _benchmark_items(self, path: Path, entries: list[Any]) -> Iterator[RawItem | Rejected]:
        for i, row in enumerate(entries):
            where = f"{path}[{i}]"
            key = where
            try:
                if not isinstance(row, dict):
                    raise FieldError(f"expected a JSON object, got {type(row).__name__}")
                key = optional_str(row.get("question_id")) or where
                bad = bad_utf8_in(row)
                if bad:
                    yield Rejected(key, "malformed_row", f"{where}: {bad}")
                    continue
                image, boxes = split_image_field(row.get("image"))
                question, answer = conversation_qa(row.get("conversations"))
                size = _declared_size(row)
            except (FieldError, TypeError, ValueError) as exc:
                yield Rejected(key, "bad_field", f"{where}: {exc}")
                continue
            dataset = optional_str(row.get("dataset")) or path.stem
            yield RawItem(
                where=where,
                question=question,
                image_path=image,
                answer=answer,
                boxes_xyxy=boxes,
                source=f"{self.name}/{dataset}",
                declared_size=size,
                clip_boxes=True,
                # question_id stays metadata, not the item's id: the shipped files are not known to
                # keep it unique, and a repeated id would reject every later question as duplicate_id
                metadata={
                    **{k: v for k, v in row.items() if k not in BENCHMARK_OWN_FIELDS},
                    **({"question_id": row["question_id"]} if row.get("question_id") is not None else {}),
                },
            )


def split_image_field(value: Any) -> tuple[str, list[list[float]]]:
    """``"x.jpg###[x1, y1, x2, y2]"`` (or a list of such strings, the first the full image) -> the
    image path and the boxes; boxes are not validated here (they are clipped once the size is known)."""
    parts = [value] if isinstance(value, str) else value
    if not isinstance(parts, list) or not parts or not all(isinstance(p, str) for p in parts):
        raise FieldError(f"image: expected a path string or a list of them, got {value!r}")
    image = parts[0].split("###", 1)[0].strip()
    boxes = []
    for part in parts:
        if "###" not in part:
            continue
        path, _, literal = part.partition("###")
        if path.strip() != image:
            raise FieldError(f"image: the box refers to {path.strip()!r}, not to the image {image!r}")
        try:
            box = ast.literal_eval(literal.strip())
        except (ValueError, SyntaxError) as exc:
            raise FieldError(f"image: box {literal.strip()!r} is not a list of 4 numbers") from exc
        if (
            not isinstance(box, (list, tuple))
            or len(box) != 4
            or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in box
            )
        ):
            raise FieldError(f"image: box {literal.strip()!r} is not a list of 4 numbers")
        boxes.append([float(v) for v in box])
    if not image:
        raise FieldError("image: empty path")
    return image, boxes


def conversation_qa(conversations: Any) -> tuple[str, str | None]:
    """The question (first human turn without ``<image>`` tags and the request for a box) and the
    answer (the last gpt turn, when there is one after the question besides the box turn)."""
    if not isinstance(conversations, list) or not all(isinstance(t, dict) for t in conversations):
        raise FieldError("conversations: expected a list of {from, value} turns")
    human = [str(t.get("value", "")) for t in conversations if t.get("from") == "human"]
    gpt = [str(t.get("value", "")) for t in conversations if t.get("from") == "gpt"]
    if not human:
        raise FieldError("conversations: no human turn holding the question")
    question = _BOX_REQUEST.sub("", _IMAGE_TAG.sub("", human[0])).strip()
    asked_box = _BOX_REQUEST.search(human[0]) is not None
    answers = gpt[1:] if asked_box else gpt
    return question, (answers[-1].strip() if answers else None)


def _declared_size(row: dict) -> tuple[int, int] | None:
    if row.get("width") and row.get("height"):
        return int(row["width"]), int(row["height"])
    return None
