"""V* Bench folder layout: subtask folders, each item an image plus a JSON with the same stem holding
``target_object`` (list), ``bbox`` (list of ``[x, y, w, h]`` pixels), ``question`` and ``options``
(the first option is the correct one)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from vzero_core.fields import FieldError, parse_options, parse_xywh_boxes
from vzero_core.rows import Rejected, SourceError, bad_utf8_in, read_json_file
from vzero_data.sources.base import RawItem, SourceOptions, require_path
from vzero_data.sources.paths import PathEscapeError, resolve_inside

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
OWN_FIELDS = ("target_object", "bbox", "question", "options")


class VStarSource:
    name = "vstar"
    description = "V* Bench folder (per-item JSON, bbox xywh, first option correct)"

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        root = require_path(src, want_dir=True)
        files = sorted(root.rglob("*.json"))
        if not files:
            raise SourceError(f"{src}: no per-item .json files found (expected V* Bench subtask folders)")
        return self._items(root, files)

    def _items(self, root: Path, files: list[Path]) -> Iterator[RawItem | Rejected]:
        for file in files:
            where = str(file)
            rel = file.relative_to(root)
            try:
                resolve_inside(root, str(rel))  # a symlink leading out of the folder is refused
                if not file.is_file():  # a FIFO would block the read
                    raise IsADirectoryError(f"{file} is not a regular file")
                item = read_json_file(file)
                bad = bad_utf8_in(item)
                if bad:
                    yield Rejected(str(rel), "malformed_row", f"{where}: {bad}")
                    continue
                if not isinstance(item, dict):
                    raise FieldError(f"expected a JSON object, got {type(item).__name__}")
                boxes = parse_xywh_boxes(item.get("bbox"), "bbox")
                opts = parse_options(item.get("options"))
            except json.JSONDecodeError as exc:
                yield Rejected(
                    str(rel), "malformed_row", f"{where}: malformed JSON ({exc.msg} at line {exc.lineno})"
                )
                continue
            except FieldError as exc:
                yield Rejected(str(rel), "bad_field", f"{where}: {exc}")
                continue
            except PathEscapeError:
                yield Rejected(
                    str(rel),
                    "image_outside_root",
                    f"{where}: a link to {file.resolve()}, outside the folder {root}",
                )
                continue
            except OSError as exc:
                yield Rejected(str(rel), "malformed_row", f"{where}: cannot read ({exc})")
                continue
            image = next((file.with_suffix(s) for s in IMAGE_SUFFIXES if file.with_suffix(s).exists()), None)
            if image is None:
                yield Rejected(
                    str(rel),
                    "image_missing",
                    f"{where}: no image with the same name ({', '.join(IMAGE_SUFFIXES)})",
                )
                continue
            targets = item.get("target_object") or []
            targets = [targets] if isinstance(targets, str) else [str(t) for t in targets]
            subtask = rel.parts[0] if len(rel.parts) > 1 else ""
            yield RawItem(
                where=where,
                question=item.get("question"),
                image_path=str(image.relative_to(root)),
                answer=opts[0] if opts else None,
                options=opts,
                target=", ".join(targets) or None,
                boxes_xyxy=boxes,
                source=self.name,
                source_id=str(rel.with_suffix("")),
                metadata={
                    "subtask": subtask,
                    "target_objects": targets,
                    **{k: v for k, v in item.items() if k not in OWN_FIELDS},
                },
            )
