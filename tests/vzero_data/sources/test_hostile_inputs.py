"""Hostile inputs: each one becomes a located rejection (or, where named, a sample) and the good row
written beside it is kept. Nothing crashes, nothing hangs."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from tests.vzero_data.sources.conftest import read_all, write_png


class Hung(BaseException):
    """Raised by the alarm: not an OSError, so no reader can mistake it for a read failure."""


GOOD = {"image": "a.png", "question": "What is red?", "id": "good"}


def jsonl(tmp: Path, *rows: dict | bytes) -> tuple[str, Path, dict]:
    lines = [r if isinstance(r, bytes) else json.dumps(r).encode() for r in rows]
    src = tmp / "items.jsonl"
    src.write_bytes(b"\n".join([json.dumps(GOOD).encode(), *lines]) + b"\n")
    return "jsonl", src, {"image_root": tmp / "imgs"}


def nul_in_path(tmp):
    return jsonl(tmp, {"image": "a.png\x00../../etc/passwd", "question": "q?", "id": "bad"})


def bad_utf8_jsonl(tmp):
    return jsonl(tmp, b'{"image": "a.png", "question": "caf\xe9?", "id": "bad"}')


def bad_utf8_csv(tmp):
    src = tmp / "items.csv"
    src.write_bytes(
        b"id,image,question\ngood,a.png,What is red?\nbad,a.png,caf\xe9?\nalso,a.png,What is blue?\n"
    )
    return "csv", src, {"image_root": tmp / "imgs"}


def fifo_image(tmp):
    os.mkfifo(tmp / "imgs" / "pipe.png")
    return jsonl(tmp, {"image": "pipe.png", "question": "q?", "id": "bad"})


def duplicate_id(tmp):
    return jsonl(tmp, {"image": "a.png", "question": "A different question?", "id": "good"})


def numeric_question(tmp):
    return jsonl(tmp, {"image": "a.png", "question": 12345, "id": "number"})


def vstar_folder(tmp, bad_json: bytes | None = None, link_out: bool = False):
    root = tmp / "vstar"
    for name in ("good", "bad"):
        write_png(root / "direct_attributes" / f"{name}.jpg", (40, 30))
    item = {
        "target_object": ["glove"],
        "bbox": [[1, 1, 5, 5]],
        "question": "What color?",
        "options": ["red", "blue"],
    }
    (root / "direct_attributes" / "good.json").write_text(json.dumps(item))
    if bad_json is not None:
        (root / "direct_attributes" / "bad.json").write_bytes(bad_json)
    if link_out:
        outside = tmp / "outside.json"
        outside.write_text(json.dumps({**item, "question": "Secret?"}))
        (root / "direct_attributes" / "bad.json").symlink_to(outside)
    return "vstar", root, {}


def bad_utf8_vstar(tmp):
    return vstar_folder(
        tmp, bad_json=b'{"question": "caf\xe9?", "options": ["a", "b"], "bbox": [[1, 1, 5, 5]]}'
    )


def vstar_symlink_out(tmp):
    return vstar_folder(tmp, link_out=True)


def coco(tmp, image_extra: dict | None = None, ann_extra: dict | None = None):
    data = {
        "images": [
            {"id": 1, "file_name": "a.png", "width": 40, "height": 30},
            {"id": 2, "file_name": "a.png", "width": 40, "height": 30, **(image_extra or {})},
        ],
        "categories": [{"id": 5, "name": "cat"}, {"id": 6, "name": "dog"}],
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 5, "bbox": [1, 1, 4, 4]},
            {"id": 11, "image_id": 2, "category_id": 6, "bbox": [1, 1, 4, 4], **(ann_extra or {})},
        ],
    }
    (tmp / "ann.json").write_text(json.dumps(data))
    return "coco", tmp / "ann.json", {"image_root": tmp / "imgs"}


def coco_image_id_list(tmp):
    return coco(tmp, ann_extra={"image_id": [2]})


def coco_width_text(tmp):
    return coco(tmp, image_extra={"width": "abc"})


@pytest.mark.parametrize(
    "make, kept, reason, detail",
    [
        (nul_in_path, 1, "bad_field", "items.jsonl:2: image path 'a.png\\x00"),
        (bad_utf8_jsonl, 1, "malformed_row", "items.jsonl:2: not valid UTF-8 (byte 0xe9"),
        (bad_utf8_csv, 2, "malformed_row", "items.csv:3: not valid UTF-8 (byte 0xe9"),
        (fifo_image, 1, "image_unreadable", "pipe.png' ("),
        (duplicate_id, 1, "duplicate_id", "items.jsonl:2: id 'good' was already given to different content"),
        (numeric_question, 2, None, None),
        (bad_utf8_vstar, 1, "malformed_row", "bad.json: field 'question': not valid UTF-8"),
        (vstar_symlink_out, 1, "image_outside_root", "bad.json: a link to"),
        (coco_image_id_list, 1, "bad_field", "annotations[1]: annotation without a known image_id ([2])"),
        (coco_width_text, 1, "bad_field", "images[1] width/height 'abc'x30 are not integers"),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
def test_hostile_input_is_a_located_reject_and_good_rows_are_kept(tmp_path, make, kept, reason, detail):
    write_png(tmp_path / "imgs" / "a.png", (40, 30))
    fmt, src, options = make(tmp_path)

    def hung(*_):
        raise Hung(f"{make.__name__}: reading hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        samples, rejects = read_all(fmt, src, **options)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert len(samples) == kept
    if reason is None:
        assert rejects == []
    else:
        assert [r.reason for r in rejects] == [reason]
        assert detail in rejects[0].detail


def test_numeric_question_is_kept_as_text(tmp_path):
    write_png(tmp_path / "imgs" / "a.png", (40, 30))
    fmt, src, options = numeric_question(tmp_path)
    samples, _ = read_all(fmt, src, **options)
    assert sorted(s.sample.question for s in samples) == ["12345", "What is red?"]
