"""Messages for unknown names (formats, strategies, grounders, model families, recipes), with a
"did you mean" guess, worded the same everywhere."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'masked'?)`` when a known name is close to ``name``, else ``""``."""
    close = get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    """``unknown negative-view strategy 'maskd' (did you mean 'masked'?); known: a, b, c``."""
    known = sorted(known)
    return f"unknown {kind} {name!r}{did_you_mean(name, known)}; known: {', '.join(known)}"
