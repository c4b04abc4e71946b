"""COCO-style JSON: ``images`` (id, file_name, width, height), ``annotations`` (image_id, category_id,
``bbox`` ``[x, y, w, h]`` pixels), ``categories`` (id, name).

An annotation with its own ``question`` (and optional ``answer``) is one sample. Annotations without
one are grouped per (image, category) into one sample whose question comes from
``--question-template`` (``{category}`` is replaced) and whose boxes are all of that category's boxes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from vzero_data.sources.base import RawItem, Rejected, SourceError, SourceOptions, require_path
from vzero_data.sources.fields import FieldError, optional_str, parse_xywh_boxes

DEFAULT_QUESTION_TEMPLATE = "What can you tell about the {category} in the image?"


class CocoSource:
    name = "coco"
    description = "COCO-style JSON (images/annotations/categories, bbox xywh); questions per annotation or from a template"

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        path = require_path(src, want_dir=False)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from exc
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("images"), list)
            or not isinstance(data.get("annotations"), list)
        ):
            raise SourceError(f"{path}: not COCO-style JSON (needs 'images' and 'annotations' lists)")
        return self._items(path, data, options.question_template or DEFAULT_QUESTION_TEMPLATE)

    def _items(self, path: Path, data: dict, template: str) -> Iterator[RawItem | Rejected]:
        categories = {
            c.get("id"): str(c.get("name")) for c in data.get("categories") or [] if isinstance(c, dict)
        }
        images = {im.get("id"): (i, im) for i, im in enumerate(data["images"]) if isinstance(im, dict)}
        groups: dict[tuple, list[tuple[int, dict]]] = defaultdict(list)
        for i, ann in enumerate(data["annotations"]):
            where = f"{path} annotations[{i}]"
            if not isinstance(ann, dict) or ann.get("image_id") not in images:
                yield Rejected(where, "bad_field", f"{where}: annotation without a known image_id")
                continue
            if ann.get("question"):
                yield self._item(
                    path,
                    [(i, ann)],
                    images[ann["image_id"]],
                    categories,
                    str(ann["question"]),
                    ann.get("answer"),
                )
            else:
                groups[(ann["image_id"], ann.get("category_id"))].append((i, ann))
        for (image_id, category_id), anns in groups.items():
            name = categories.get(category_id, str(category_id))
            yield self._item(path, anns, images[image_id], categories, template.format(category=name), None)

    def _item(self, path, anns, image, categories, question, answer) -> RawItem | Rejected:
        index, im = image
        first = anns[0][0]
        where = (
            f"{path} annotations[{first}]"
            if len(anns) == 1
            else f"{path} annotations[{','.join(str(i) for i, _ in anns)}]"
        )
        try:
            boxes = [b for i, a in anns for b in parse_xywh_boxes(a.get("bbox"), f"annotations[{i}].bbox")]
        except FieldError as exc:
            return Rejected(where, "bad_field", f"{where}: {exc}")
        category = categories.get(anns[0][1].get("category_id"))
        size = (int(im["width"]), int(im["height"])) if im.get("width") and im.get("height") else None
        return RawItem(
            where=where,
            question=question,
            image_path=im.get("file_name"),
            answer=optional_str(answer),
            target=category,
            boxes_xyxy=boxes,
            source=self.name,
            source_id=f"image{im.get('id')}-ann{first}"
            if len(anns) == 1
            else f"image{im.get('id')}-cat{anns[0][1].get('category_id')}",
            declared_size=size,
            metadata={
                "coco_image_id": im.get("id"),
                "annotation_ids": [a.get("id") for _, a in anns],
                "category": category,
            },
        )
