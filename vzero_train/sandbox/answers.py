"""What a student answered, beyond right or wrong: the spread of its answers over the test items.

A student that answers one colour to every question scores about chance while looking like a
model; the sandbox report shows each arm's answer distribution, its unparseable share, and flags a
collapsed arm (one answer for most items) instead of hiding it behind an accuracy.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from vzero_core.choices import LETTERS

# An arm whose most common answer covers at least this share of the items is flagged as collapsed.
COLLAPSE_SHARE = 0.8


def answered(row: Mapping[str, Any]) -> str:
    """The answer an evaluation row gave, as text: the chosen option's text when the response was
    read as a letter, else the raw response (stripped, lower-cased), which is what an unparseable
    answer said."""
    letter, options = row.get("prediction"), row.get("options") or ()
    if letter is not None and letter in LETTERS[: len(options)]:
        return str(options[LETTERS.index(letter)]).strip().lower()
    return str(row.get("response", "")).strip().lower() or "<empty>"


def answer_profile(rows: Iterable[Mapping[str, Any]], *, top: int = 5) -> dict[str, Any]:
    """``n``, the ``unparseable`` share, the ``top`` answers with their shares, and ``collapsed``
    (the commonest answer covers at least :data:`COLLAPSE_SHARE` of the items)."""
    rows = list(rows)
    n = len(rows)
    if not n:
        return {"n": 0, "unparseable": float("nan"), "answers": [], "collapsed": False}
    counts = Counter(answered(r) for r in rows)
    unparseable = sum(r.get("prediction") is None for r in rows)
    commonest = counts.most_common(top)
    return {
        "n": n,
        "unparseable": unparseable / n,
        "answers": [{"answer": a, "share": c / n} for a, c in commonest],
        "collapsed": commonest[0][1] / n >= COLLAPSE_SHARE,
    }


def read_rows(eval_dir: Path) -> list[dict[str, Any]]:
    """The prediction rows of an eval folder's single benchmark (``predictions/*/*.jsonl``)."""
    files = sorted((eval_dir / "predictions").glob("*/*.jsonl"))
    if len(files) != 1:
        raise FileNotFoundError(f"{eval_dir}: expected one predictions/*/*.jsonl, found {len(files)}")
    with open(files[0], encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
