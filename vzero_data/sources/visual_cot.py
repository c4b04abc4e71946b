"""Visual-CoT meta JSONL: ``dataset``, ``split``, ``image`` (relative to --image-root), ``question``,
``answer``, ``bboxs`` (list of xyxy pixel boxes), ``width``, ``height``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vzero_data.sources.base import RawItem, Rejected, SourceOptions, require_path
from vzero_data.sources.fields import FieldError, optional_str, parse_boxes
from vzero_data.sources.rows import iter_jsonl

OWN_FIELDS = ("image", "question", "answer", "bboxs", "width", "height", "dataset")


class VisualCotSource:
    name = "visual_cot"
    description = "Visual-CoT meta JSONL (bboxs xyxy pixels, dataset/split, width/height)"

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        return self._items(require_path(src, want_dir=False))

    def _items(self, path: Path) -> Iterator[RawItem | Rejected]:
        for entry in iter_jsonl(path):
            if isinstance(entry, Rejected):
                yield entry
                continue
            where, row = entry
            try:
                boxes = parse_boxes(row.get("bboxs"), "bboxs")
                size = (
                    (int(row["width"]), int(row["height"]))
                    if row.get("width") and row.get("height")
                    else None
                )
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
