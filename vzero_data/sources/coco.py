"""COCO-style JSON: ``images`` (id, file_name, width, height), ``annotations`` (image_id, category_id,
``bbox`` ``[x, y, w, h]`` pixels, ``iscrowd``), ``categories`` (id, name).

An annotation with its own ``question`` (and optional ``answer``) is one sample. Annotations without
one are grouped per (image, category) into one sample whose question comes from
``--question-template`` (``{category}`` is replaced) and whose boxes are all of that category's boxes.
Crowd annotations (``iscrowd: 1``) mark a region of many instances, not one object: they are not
evidence boxes and are left out (counted in the rejects as ``crowd_annotation``).

Images: ``--image-root`` if given; else, for a JSON in COCO's own layout
(``<root>/annotations/instances_val2017.json``), ``<root>/val2017`` or ``<root>/images/val2017``;
else the JSON's folder.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from vzero_core.fields import FieldError, optional_str, parse_xywh_boxes
from vzero_core.rows import Rejected, SourceError, bad_utf8_in, read_json_file
from vzero_data.sources.base import RawItem, SourceOptions, require_path

DEFAULT_QUESTION_TEMPLATE = "What can you tell about the {category} in the image?"


class CocoSource:
    name = "coco"
    description = "COCO-style JSON (images/annotations/categories, bbox xywh); questions per annotation or from a template"

    def image_root_for(self, src: str) -> Path:
        """Where COCO's layout keeps the images of ``src`` (see the module docstring)."""
        path = Path(src)
        if path.parent.name != "annotations":
            return path.parent
        split = re.sub(r"^(instances|captions|person_keypoints|image_info)_", "", path.stem)
        base = path.parent.parent
        candidates = [base / split, base / "images" / split, base / "images"]
        for candidate in candidates:
            if candidate.is_dir():
                return candidate
        raise SourceError(
            f"{src}: cannot find the images (looked in {', '.join(str(c) for c in candidates)}); "
            "pass --image-root"
        )

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        path = require_path(src, want_dir=False)
        try:
            data = read_json_file(path)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from exc
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("images"), list)
            or not isinstance(data.get("annotations"), list)
        ):
            raise SourceError(f"{path}: not COCO-style JSON (needs 'images' and 'annotations' lists)")
        return self._items(
            path, data, options.question_template or DEFAULT_QUESTION_TEMPLATE, options.include_crowd
        )

    def _items(
        self, path: Path, data: dict, template: str, include_crowd: bool
    ) -> Iterator[RawItem | Rejected]:
        categories = {
            c.get("id"): str(c.get("name"))
            for c in data.get("categories") or []
            if isinstance(c, dict) and _is_id(c.get("id")) and not bad_utf8_in(c)
        }
        images = {}
        for i, im in enumerate(data["images"]):
            if bad_utf8_in(im):
                where = f"{path} images[{i}]"
                yield Rejected(where, "malformed_row", f"{where}: {bad_utf8_in(im)}")
                continue
            if not isinstance(im, dict) or not _is_id(im.get("id")):
                where = f"{path} images[{i}]"
                yield Rejected(where, "bad_field", f"{where}: image entry without an integer or text id")
                continue
            images[im["id"]] = (i, im)
        groups: dict[tuple, list[tuple[int, dict]]] = defaultdict(list)
        for i, ann in enumerate(data["annotations"]):
            where = f"{path} annotations[{i}]"
            if bad_utf8_in(ann):
                yield Rejected(where, "malformed_row", f"{where}: {bad_utf8_in(ann)}")
                continue
            if not isinstance(ann, dict) or not _is_id(ann.get("image_id")) or ann["image_id"] not in images:
                image_id = ann.get("image_id") if isinstance(ann, dict) else None
                yield Rejected(
                    where, "bad_field", f"{where}: annotation without a known image_id ({image_id!r})"
                )
                continue
            if not _is_id(ann.get("category_id", 0)):
                yield Rejected(
                    where, "bad_field", f"{where}: category_id {ann.get('category_id')!r} is not an id"
                )
                continue
            if ann.get("iscrowd") in (1, True, "1") and not include_crowd:
                yield Rejected(
                    where, "crowd_annotation", f"{where}: crowd annotation (iscrowd=1), not an evidence box"
                )
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
        try:
            size = (int(im["width"]), int(im["height"])) if im.get("width") and im.get("height") else None
        except (TypeError, ValueError):
            return Rejected(
                where,
                "bad_field",
                f"{where}: images[{index}] width/height {im.get('width')!r}x{im.get('height')!r} are not integers",
            )
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


def _is_id(value: object) -> bool:
    """COCO ids are integers (some exports use text); a list or object is not an id."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)
