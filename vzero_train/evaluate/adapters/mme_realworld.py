"""MME-RealWorld: one JSON list of questions with image paths.

Each entry has ``Question_id``, ``Image`` (path, relative to ``--image-root`` or else to the JSON's
folder), ``Text`` (the question), ``Answer choices`` (strings like ``"(A) 12"``), ``Ground truth``
(a letter A-E), ``Task``, ``Subtask`` and ``Category``. The category reported is ``Task/Subtask``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_train.evaluate.adapters import register_adapter
from vzero_train.evaluate.items import EvalDataError, EvalItem, Skipped, image_from_file

_CHOICE_PREFIX = re.compile(r"^\s*\(?([A-Ea-e])\)\s*[.:]?\s*")
REQUIRED = ("Question_id", "Image", "Text", "Answer choices", "Ground truth")


def _detect(src: Path) -> bool:
    return src.is_file() and src.suffix.lower() == ".json"


def strip_choice_prefix(choice: str) -> str:
    """``"(A) 12"`` -> ``"12"``: the letters are added back when the options are shown."""
    return _CHOICE_PREFIX.sub("", choice, count=1).strip()


@register_adapter(
    "mme_realworld",
    detect=_detect,
    description="MME-RealWorld JSON list (image paths, '(A) ...' choices, ground truth A-E)",
)
def read_mme_realworld(
    src: Path, *, benchmark: str, image_root: Path | None = None
) -> Iterator[EvalItem | Skipped]:
    try:
        rows = json.loads(src.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise EvalDataError(f"{src}: malformed JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(rows, list):
        raise EvalDataError(f"{src}: expected a JSON list of questions, got {type(rows).__name__}")
    root = image_root or src.parent
    for i, row in enumerate(rows):
        item_id = str(row.get("Question_id", f"entry-{i}")) if isinstance(row, dict) else f"entry-{i}"
        try:
            yield _item(row, item_id, benchmark, root, f"{src}[{i}]")
        except EvalDataError as exc:
            yield Skipped(item_id, benchmark, str(exc))


def _item(row: Any, item_id: str, benchmark: str, root: Path, where: str) -> EvalItem:
    if not isinstance(row, dict):
        raise EvalDataError(f"{where}: expected an object, got {type(row).__name__}")
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise EvalDataError(f"{where}: missing fields {missing}")
    choices = row["Answer choices"]
    if not isinstance(choices, list) or len(choices) < 2:
        raise EvalDataError(f"{where}: 'Answer choices' must be a list of at least 2 choices")
    task, subtask = row.get("Task", ""), row.get("Subtask", "")
    return EvalItem(
        item_id=item_id,
        benchmark=benchmark,
        question=str(row["Text"]),
        answer=str(row["Ground truth"]).strip().strip("()").upper(),
        options=tuple(strip_choice_prefix(str(c)) for c in choices),
        load_image=image_from_file(root / row["Image"]),
        category="/".join(p for p in (task, subtask) if p) or "all",
        metadata={"Category": row.get("Category", "")},
    )
