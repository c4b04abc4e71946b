"""Multiple-choice text: options written into a question as "(A) ..." lines, letter labels, and a
deterministic per-item option order.

Shared by ingest (Hugging Face re-hosts of V* put the options inside the question text and give a
bare letter label), evaluation (V*'s ``test_questions.jsonl``, store items) and the verl export
(options shown to the policy), so every reader splits and shows options the same way.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CHOICE_INSTRUCTION = "Answer with the option's letter from the given choices directly."

# "(A)" at the start of the text, a line, or after whitespace.
_MARKER = re.compile(r"(?:(?<=\s)|^)\(([A-Z])\)[ \t]*", re.M)
# "(A) red", "A. red", "A) red", "A: red" at the start of an option.
_LABEL = re.compile(r"^\s*\(?([A-Za-z])\s*[.):]\s*")


class ChoiceError(ValueError):
    """A label or option list that cannot be interpreted; the message says why."""


@dataclass(frozen=True)
class LetteredQuestion:
    """A question whose options were written into its text."""

    question: str
    options: tuple[str, ...]
    instruction: str = ""  # text after the last option (e.g. "Answer with the option's letter ...")


def split_lettered(text: str) -> LetteredQuestion | None:
    """Split ``"Q?\\n(A) red\\n(B) blue\\nAnswer with ..."`` (or the options inline, ``"Q? (A) red
    (B) blue"``) into question, options and trailing instruction; ``None`` unless the text holds
    options ``(A)``, ``(B)``, ... in order (at least two)."""
    if not isinstance(text, str):
        return None
    markers = []
    for m in _MARKER.finditer(text):
        if m.group(1) == LETTERS[len(markers)]:
            markers.append(m)
        elif m.group(1) == "A":  # a fresh "(A)" restarts the list (an "(A)" inside the question)
            markers = [m]
    if len(markers) < 2:
        return None
    options = []
    instruction = ""
    for i, m in enumerate(markers):
        end = markers[i + 1].start() if i + 1 < len(markers) else len(text)
        chunk = text[m.end() : end]
        if i + 1 == len(markers) and "\n" in chunk.strip():
            chunk, _, rest = chunk.strip().partition("\n")
            instruction = rest.strip()
        options.append(" ".join(chunk.split()))
    if any(not o for o in options):
        return None
    question = text[: markers[0].start()].strip()
    return LetteredQuestion(question, tuple(options), instruction)


def strip_labels(options: Sequence[str]) -> list[str]:
    """Drop "A. " / "(A) " / "A) " / "A: " labels, only when every option carries its own letter in
    order (so an option that merely starts with a capital, "A cat", is left alone)."""
    options = [str(o) for o in options]
    matches = [_LABEL.match(o) for o in options]
    if options and all(m and m.group(1).upper() == LETTERS[i] for i, m in enumerate(matches)):
        return [o[m.end() :].strip() for o, m in zip(options, matches, strict=True)]
    return [o.strip() for o in options]


def label_letter(label: object, n_options: int) -> str:
    """The letter a label names: ``"B"``, ``"(B)"``, ``"b"``, or a 0-based index ``1``."""
    if isinstance(label, bool):
        raise ChoiceError(f"label {label!r} is not an option letter")
    if isinstance(label, int):
        if 0 <= label < n_options:
            return LETTERS[label]
        raise ChoiceError(f"label index {label} is outside the {n_options} options")
    letter = str(label).strip().strip("().").strip().upper()
    if len(letter) == 1 and letter in LETTERS[:n_options]:
        return letter
    raise ChoiceError(f"label {label!r} is not one of the option letters {', '.join(LETTERS[:n_options])}")


def answer_index(answer: str, options: Sequence[str]) -> int | None:
    """Index of ``answer`` among ``options``: its text, or its letter; ``None`` if neither."""
    stripped = str(answer).strip()
    if stripped in options:
        return list(options).index(stripped)
    try:
        return LETTERS.index(label_letter(stripped, len(options)))
    except ChoiceError:
        return None


def item_order(n_options: int, key: str) -> list[int]:
    """A permutation of ``range(n_options)`` fixed by ``key`` (an item or sample id): every run,
    checkpoint and export shows an item's options in the same order, and the stored order (V*
    keeps the correct option first) never reveals the answer's position."""
    seed = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    order = list(range(n_options))
    random.Random(seed).shuffle(order)
    return order


def shuffled(options: Sequence[str], answer_at: int | None, key: str) -> tuple[tuple[str, ...], str | None]:
    """``options`` in :func:`item_order` and the letter the option at ``answer_at`` lands on."""
    order = item_order(len(options), key)
    shown = tuple(options[i] for i in order)
    return shown, (LETTERS[order.index(answer_at)] if answer_at is not None else None)


def lettered_text(question: str, options: Sequence[str], instruction: str = CHOICE_INSTRUCTION) -> str:
    """``question``, then one "(A) option" line per option, then ``instruction`` (if any)."""
    lines = [question, *(f"({LETTERS[i]}) {o}" for i, o in enumerate(options))]
    if instruction:
        lines.append(instruction)
    return "\n".join(lines)
