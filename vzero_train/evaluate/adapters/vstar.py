"""V* Bench: one folder per subtask, an image and a same-named JSON per item.

The JSON holds ``question``, ``options`` (the FIRST option is the correct one), ``target_object`` and
``bbox`` (``[x, y, w, h]`` pixels). Options are shown shuffled, with a permutation seeded by the
item id, so every run and every checkpoint sees the same order.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path

from vzero_train.evaluate.adapters import register_adapter
from vzero_train.evaluate.items import LETTERS, EvalDataError, EvalItem, Skipped, image_from_file

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def _subtask_dirs(src: Path) -> list[Path]:
    return sorted(d for d in src.iterdir() if d.is_dir() and any(d.glob("*.json")))


def _detect(src: Path) -> bool:
    return src.is_dir() and not (src / "shards").is_dir() and bool(_subtask_dirs(src))


def shuffled_options(options: list[str], item_id: str) -> tuple[tuple[str, ...], str]:
    """Options in an order fixed by ``item_id``, and the letter the first (correct) one lands on."""
    seed = int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:8], "big")
    order = list(range(len(options)))
    random.Random(seed).shuffle(order)
    return tuple(options[i] for i in order), LETTERS[order.index(0)]


def _image_for(json_path: Path) -> Path:
    for suffix in IMAGE_SUFFIXES:
        for candidate in (json_path.with_suffix(suffix), json_path.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    raise EvalDataError(f"{json_path}: no image with the same name ({', '.join(IMAGE_SUFFIXES)})")


@register_adapter(
    "vstar",
    detect=_detect,
    description="V* Bench folder: <subtask>/<name>.json + image; first option correct",
)
def read_vstar(src: Path, *, benchmark: str, image_root: Path | None = None) -> Iterator[EvalItem | Skipped]:
    subtasks = _subtask_dirs(src) if src.is_dir() else []
    if not subtasks:
        raise EvalDataError(f"{src}: not a V* Bench folder (no subfolder with JSON files)")
    for subtask in subtasks:
        for json_path in sorted(subtask.glob("*.json")):
            item_id = f"{subtask.name}/{json_path.stem}"
            try:
                yield _item(json_path, item_id, subtask.name, benchmark, image_root)
            except EvalDataError as exc:
                yield Skipped(item_id, benchmark, str(exc))


def _item(json_path: Path, item_id: str, subtask: str, benchmark: str, image_root: Path | None) -> EvalItem:
    try:
        row = json.loads(json_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise EvalDataError(f"{json_path}: malformed JSON ({exc.msg})") from exc
    options = row.get("options")
    if not isinstance(options, list) or len(options) < 2:
        raise EvalDataError(f"{json_path}: 'options' must be a list of at least 2 options")
    if not row.get("question"):
        raise EvalDataError(f"{json_path}: missing field 'question'")
    shown, answer = shuffled_options([str(o) for o in options], item_id)
    image = (image_root / subtask / _image_for(json_path).name) if image_root else _image_for(json_path)
    return EvalItem(
        item_id=item_id,
        benchmark=benchmark,
        question=str(row["question"]),
        answer=answer,
        options=shown,
        load_image=image_from_file(image),
        category=subtask,
        metadata={k: row[k] for k in ("target_object", "bbox") if k in row},
    )
