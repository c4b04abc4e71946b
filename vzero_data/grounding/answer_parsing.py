"""Lenient parsing of the boxes a generative VLM (Qwen-VL family) writes in its answer.

Real answers are messy: JSON inside Markdown fences (sometimes never closed), lists cut off by the
token budget, a single object instead of a list, ``<box>(x1,y1),(x2,y2)</box>`` or
``<|box_start|>...<|box_end|>`` tags (Qwen-VL, Qwen2-VL), or a bare ``[x1, y1, x2, y2]``.
:func:`parse_boxes` tries, in order: whole JSON, per-object JSON fragments (recovers truncated
lists), box tags, and bare 4-number lists; the first that yields a box wins. Coordinates are
returned in the model's own frame; mapping to image pixels is the caller's job.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NamedTuple

BOX_KEYS = ("bbox_2d", "bbox", "box_2d", "box", "bounding_box", "bbox_2D")

_NUMBER = r"-?\d+(?:\.\d+)?"
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)(?:```|$)", re.DOTALL)
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
_KEYED_LIST = re.compile(r'"(?:' + "|".join(BOX_KEYS) + r')"\s*:\s*\[([^\[\]]*)\]')
_LABEL = re.compile(r'"label"\s*:\s*"([^"]*)"')
_TAG = re.compile(r"<\|?box(?:_start)?\|?>(.*?)<\|?/?box(?:_end)?\|?>", re.DOTALL)
_REF = re.compile(r"<\|?(?:ref|object_ref_start)\|?>(.*?)<\|?/?(?:ref|object_ref_end)\|?>", re.DOTALL)
_BARE_LIST = re.compile(r"\[\s*(" + _NUMBER + r"(?:\s*,\s*" + _NUMBER + r"){3})\s*\]")


class ParsedBox(NamedTuple):
    """Four coordinates ``(x1, y1, x2, y2)`` in the model's frame, ordered so x1 < x2, y1 < y2."""

    xyxy: tuple[float, float, float, float]
    label: str | None = None


def _ordered(values: list[float]) -> tuple[float, float, float, float] | None:
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        return None
    x1, x2 = sorted(values[0::2])
    y1, y2 = sorted(values[1::2])
    if x1 == x2 or y1 == y2:
        return None
    return (x1, y1, x2, y2)


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(_NUMBER, text)]


def _from_json(node: Any, out: list[ParsedBox]) -> None:
    if isinstance(node, dict):
        for key in BOX_KEYS:
            if key in node and isinstance(node[key], list):
                coords = _ordered([v for v in node[key] if isinstance(v, (int, float))])
                label = node.get("label")
                if coords is not None:
                    out.append(ParsedBox(coords, str(label) if label is not None else None))
                return
        for value in node.values():
            _from_json(value, out)
    elif isinstance(node, list):
        if len(node) == 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in node):
            coords = _ordered([float(v) for v in node])
            if coords is not None:
                out.append(ParsedBox(coords))
            return
        for item in node:
            _from_json(item, out)


def _parse_json(text: str) -> list[ParsedBox]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return []
    out: list[ParsedBox] = []
    _from_json(data, out)
    return out


def _parse_fragments(text: str) -> list[ParsedBox]:
    out = []
    for fragment in text.split("{")[1:]:
        match = _KEYED_LIST.search(fragment)
        if not match:
            continue
        coords = _ordered(_numbers(match.group(1)))
        if coords is None:
            continue
        label = _LABEL.search(fragment)
        out.append(ParsedBox(coords, label.group(1) if label else None))
    return out


def _parse_tags(text: str) -> list[ParsedBox]:
    out = []
    for match in _TAG.finditer(text):
        coords = _ordered(_numbers(match.group(1)))
        if coords is None:
            continue
        refs = list(_REF.finditer(text, 0, match.start()))
        out.append(ParsedBox(coords, refs[-1].group(1).strip() if refs else None))
    return out


def _parse_bare(text: str) -> list[ParsedBox]:
    boxes = (_ordered(_numbers(m.group(1))) for m in _BARE_LIST.finditer(text))
    return [ParsedBox(c) for c in boxes if c is not None]


def parse_boxes(text: str) -> list[ParsedBox]:
    """Every box found in a model's answer, in order, without duplicates; [] when there is none."""
    text = _THINK.sub("", text)
    fenced = [m.group(1) for m in _FENCE.finditer(text)]
    body = "\n".join(fenced) if fenced else text
    for parser in (_parse_json, _parse_fragments, _parse_tags, _parse_bare):
        found = parser(body.strip())
        if not found and body is not text:
            found = parser(text)
        if found:
            return list(dict.fromkeys(found))
    return []
