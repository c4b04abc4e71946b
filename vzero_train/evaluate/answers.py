"""Reading an answer out of a model's free-form response.

Multiple choice: :func:`extract_choice` tries rules from the most to the least explicit (the whole
response is a letter; "the answer is (B)"; a leading "B."; a lone "(B)"; exactly one option's text;
exactly one stand-alone capital letter) and returns ``None`` when nothing, or something ambiguous,
is found: such responses are counted as unparseable, never guessed. Open questions:
:func:`match_open` compares normalized text (case, punctuation, articles, number words).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from vzero_data.benchmarks.items import LETTERS

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.S | re.I)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_MARKUP = re.compile(r"[*_`#]+")
# "answer is B", "Answer: (C)", "correct option would be D", "choice B": the explicit statement.
_STATED = re.compile(
    r"(?i:answer|option|choice)\s*(?i:is|would be|should be)?\s*[:\-]?\s*(?i:option\s*|choice\s*)?"
    r"(?:\(([A-Za-z])\)|([A-Z])(?![\w'])|([a-z])(?=\s*(?:[.):,;]|$)))"
)
_LEADING = re.compile(r"^\(?([A-Za-z])\s*[.):](?:\s|$)")
_PARENTHESIZED = re.compile(r"\(([A-Z])\)")
_CAPITAL = re.compile(r"(?<![\w'])([A-Z])(?![\w'])")
_ARTICLE_A = re.compile(r"A\s+(?!(?:and|or|nor)\b)[a-z]")
_ARTICLES = {"a", "an", "the"}
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_OPEN_STATED = re.compile(r"(?:the\s+)?(?:final\s+)?answer\s*(?:is|:)\s*(.+)", re.I | re.S)


def clean_response(response: str) -> str:
    """Drop thinking blocks (and anything before a dangling ``</think>``), ``\\boxed{}`` and markdown."""
    text = _THINK_BLOCK.sub(" ", response)
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    text = _BOXED.sub(r"\1", text)
    return _MARKUP.sub("", text).strip()


def _single(letters: set[str]) -> str | None:
    return letters.pop() if len(letters) == 1 else None


def _mentioned_options(text: str, options: Sequence[str]) -> set[int]:
    """Indices of options whose text occurs as whole words; a match inside a longer match is ignored
    ("dark red" mentioned does not also mention "red")."""
    spans: list[tuple[int, int, int]] = []
    lowered = text.lower()
    for i, option in enumerate(options):
        needle = option.strip().lower()
        if not needle:
            continue
        for m in re.finditer(rf"(?<!\w){re.escape(needle)}(?!\w)", lowered):
            spans.append((m.start(), m.end(), i))
    return {
        i for s, e, i in spans if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in spans)
    }


def extract_choice(response: str, options: Sequence[str]) -> str | None:
    """The option letter a response chooses among ``options`` (``A`` = first), or ``None``."""
    valid = LETTERS[: len(options)]
    text = clean_response(response)
    if not text:
        return None
    bare = text.strip(" \t\n.:;!()[]{}'\"").upper()
    if len(bare) == 1 and bare in valid:
        return bare

    stated = [next(g for g in m.groups() if g).upper() for m in _STATED.finditer(text)]
    stated = [s for s in stated if s in valid]
    if stated:
        return stated[-1]  # reasoning first, conclusion last

    leading = _LEADING.match(text)
    if leading and leading.group(1).upper() in valid and not _ARTICLE_A.match(text):
        return leading.group(1).upper()

    in_parens = {m.group(1) for m in _PARENTHESIZED.finditer(text)} & set(valid)
    if in_parens:
        return _single(in_parens)

    mentioned = _mentioned_options(text, options)
    if mentioned:
        return valid[mentioned.pop()] if len(mentioned) == 1 else None

    capitals = {
        m.group(1)
        for m in _CAPITAL.finditer(text)
        if m.group(1) in valid and not (m.group(1) == "A" and _ARTICLE_A.match(text, m.start()))
    }
    return _single(capitals)


def normalize_text(text: str) -> str:
    """Lower case, no punctuation, no articles, number words as digits, single spaces."""
    text = text.lower().translate(str.maketrans(string.punctuation, " " * len(string.punctuation)))
    words = [_NUMBER_WORDS.get(w, w) for w in text.split() if w not in _ARTICLES]
    return " ".join(words)


def open_candidates(response: str) -> list[str]:
    """Spans of a response that may hold a short answer: the whole, the stated answer, the first
    line and the first sentence."""
    text = clean_response(response)
    if not text:
        return []
    candidates = [text]
    stated = _OPEN_STATED.search(text)
    if stated:
        candidates.append(stated.group(1))
    first_line = text.splitlines()[0]
    candidates += [first_line, re.split(r"(?<=[.!?])\s", first_line)[0]]
    return list(dict.fromkeys(c.strip() for c in candidates if c.strip()))


def match_open(response: str, answer: str) -> tuple[str | None, bool]:
    """(the prediction read from the response, whether it exactly matches ``answer`` after
    normalization); the prediction is ``None`` for an empty response."""
    candidates = open_candidates(response)
    if not candidates:
        return None, False
    target = normalize_text(answer)
    for candidate in candidates:
        if normalize_text(candidate) == target:
            return candidate, True
    return candidates[-1], False
