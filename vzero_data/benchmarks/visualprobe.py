"""VisualProbe (Mini-o3; easy, medium and hard splits), as its publishers ship it: one Hugging Face
data set per difficulty (``Mini-o3/VisualProbe_Easy``, ``_Medium``, ``_Hard``), each a folder with
``val.json``, a JSON list of ``{"images": ["VisualProbe_Easy/<name>.jpg"], "problem":
"<image>\\n<question>", "solution": "<answer>"}``. The image path starts with the data set's own
name, which the downloaded folder does not repeat: it is resolved with that prefix removed (as
Vision-OPD's ``eval/prepare_data.py`` does), else as written. The ``<image>`` tag is removed from
the question; answers are open text. The category is the difficulty.

Give one difficulty's folder, or a folder holding several (``VisualProbe_Easy*/val.json`` ...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from vzero_core.rows import read_json_file
from vzero_data.benchmarks import register_adapter
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped, image_from_file

VAL_FILE = "val.json"
_DIFFICULTY = re.compile(r"VisualProbe_(Easy|Medium|Hard)", re.IGNORECASE)


def _splits(src: Path) -> list[Path]:
    if (src / VAL_FILE).is_file():
        return [src]
    return sorted(p.parent for p in src.glob(f"*/{VAL_FILE}") if _DIFFICULTY.search(p.parent.name))


def _detect(src: Path) -> bool:
    return src.is_dir() and any(_DIFFICULTY.search(p.name) for p in [src, *_splits(src)])


def _difficulty(folder: Path) -> str:
    found = _DIFFICULTY.search(folder.name)
    return found.group(1).capitalize() if found else folder.name


def _image(folder: Path, rel: str, difficulty: str) -> Path:
    prefix = f"VisualProbe_{difficulty}/"
    if rel.startswith(prefix) and (folder / rel[len(prefix) :]).is_file():
        return folder / rel[len(prefix) :]
    return folder / rel


def _split_items(folder: Path, benchmark: str) -> Iterator[EvalItem | Skipped]:
    difficulty = _difficulty(folder)
    path = folder / VAL_FILE
    try:
        records = read_json_file(path)
    except json.JSONDecodeError as exc:
        raise EvalDataError(f"{path}: malformed JSON ({exc.msg})") from exc
    if not isinstance(records, list):
        raise EvalDataError(f"{path}: expected a JSON list of records")
    for i, record in enumerate(records):
        item_id = f"{difficulty}/{i}"
        where = f"{path}[{i}]"
        images = record.get("images") if isinstance(record, dict) else None
        if not images or not isinstance(images, list):
            yield Skipped(item_id, benchmark, f"{where}: no 'images'")
            continue
        question = str(record.get("problem") or "").replace("<image>\n", "").replace("<image>", "").strip()
        answer = str(record.get("solution") or "").strip()
        try:
            if not answer:
                raise EvalDataError(f"{where}: no 'solution'")
            yield EvalItem(
                item_id=item_id,
                benchmark=benchmark,
                question=question,
                answer=answer,
                load_image=image_from_file(_image(folder, str(images[0]), difficulty)),
                category=difficulty,
                metadata={"protocol": "visualprobe", "image": str(images[0])},
            )
        except EvalDataError as exc:
            yield Skipped(item_id, benchmark, str(exc))


@register_adapter(
    "visualprobe",
    detect=_detect,
    description="VisualProbe: a difficulty's folder with val.json, or a folder of the easy/medium/hard folders",
)
def read_visualprobe(
    src: Path, *, benchmark: str, image_root: Path | None = None
) -> Iterator[EvalItem | Skipped]:
    splits = _splits(src)
    if not splits:
        raise EvalDataError(f"{src}: not a VisualProbe folder (no {VAL_FILE})")
    for folder in splits:
        yield from _split_items(folder, benchmark)
