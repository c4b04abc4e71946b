"""V* Bench: one folder per subtask, an image and a same-named JSON per item.

The JSON holds ``question``, ``options`` (the FIRST option is the correct one), ``target_object`` and
``bbox`` (``[x, y, w, h]`` pixels). The download also has a root ``test_questions.jsonl``
(``question_id``, ``image``, ``text`` = the question, "(A) ..." option lines and an instruction,
``label`` = the correct letter, ``category``): when it is present, evaluation uses its option order
and label, the protocol lmms-eval and VLMEvalKit score. Without it, the options are shown in an
order fixed per item (seeded by the item id), so the correct option is not always first and every
run and checkpoint sees the same order. Each item records which protocol it was read under.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from vzero_core.box_formats import box_from_xywh
from vzero_core.boxes import Box
from vzero_core.choices import ChoiceError, label_letter, shuffled, split_lettered
from vzero_core.rows import Rejected, iter_jsonl
from vzero_data.benchmarks import register_adapter
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped, image_from_file

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def _subtask_dirs(src: Path) -> list[Path]:
    return sorted(d for d in src.iterdir() if d.is_dir() and any(d.glob("*.json")))


def _detect(src: Path) -> bool:
    return src.is_dir() and not (src / "shards").is_dir() and bool(_subtask_dirs(src))


QUESTIONS_FILE = "test_questions.jsonl"
PROTOCOL_QUESTIONS = f"{QUESTIONS_FILE}: its option order and label (as lmms-eval and VLMEvalKit score)"
PROTOCOL_SHUFFLED = "per-item JSON: options in an order fixed per item (no test_questions.jsonl found)"


def shuffled_options(options: list[str], item_id: str) -> tuple[tuple[str, ...], str]:
    """Options in an order fixed by ``item_id``, and the letter the first (correct) one lands on."""
    shown, letter = shuffled(options, 0, item_id)
    return shown, str(letter)


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
    if (src / QUESTIONS_FILE).is_file():
        yield from _question_file_items(src, benchmark, image_root)
        return
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
        metadata={
            **{k: row[k] for k in ("target_object", "bbox") if k in row},
            "protocol": PROTOCOL_SHUFFLED,
        },
        boxes=_boxes(row),
    )


def _boxes(row: dict) -> tuple[Box, ...]:
    """The item's ``bbox`` list (``[x, y, w, h]`` pixels) as boxes; none when absent or malformed."""
    try:
        return tuple(box_from_xywh(b) for b in row.get("bbox") or ())
    except (TypeError, ValueError):
        return ()


def _item_boxes(json_path: Path) -> tuple[Box, ...]:
    """The boxes of the per-item JSON beside an image of ``test_questions.jsonl`` (the question file
    has none); none when there is no such file."""
    try:
        return _boxes(json.loads(json_path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, AttributeError):
        return ()


def _question_file_items(src: Path, benchmark: str, image_root: Path | None) -> Iterator[EvalItem | Skipped]:
    for entry in iter_jsonl(src / QUESTIONS_FILE):
        if isinstance(entry, Rejected):
            yield Skipped(entry.key.rpartition(":")[2], benchmark, entry.detail)
            continue
        where, row = entry
        image = str(row.get("image") or "")
        item_id = str(Path(image).with_suffix("")) if image else f"question-{row.get('question_id')}"
        try:
            lettered = split_lettered(str(row.get("text") or ""))
            if lettered is None:
                raise EvalDataError(f"{where}: 'text' holds no \"(A) ...\" options")
            try:
                answer = label_letter(row.get("label"), len(lettered.options))
            except ChoiceError as exc:
                raise EvalDataError(f"{where}: {exc}") from exc
            if not image:
                raise EvalDataError(f"{where}: missing field 'image'")
            yield EvalItem(
                item_id=item_id,
                benchmark=benchmark,
                question=lettered.question,
                answer=answer,
                options=lettered.options,
                load_image=image_from_file((image_root or src) / image),
                category=str(row.get("category") or Path(image).parent.name or "all"),
                metadata={"question_id": row.get("question_id"), "protocol": PROTOCOL_QUESTIONS},
                boxes=_item_boxes((src / image).with_suffix(".json")),
            )
        except EvalDataError as exc:
            yield Skipped(item_id, benchmark, str(exc))
