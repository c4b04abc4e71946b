"""ms-swift's own code on ``export --format swift``: its ``load_dataset`` (the row preprocessor that
keeps ``teacher_prompt`` and casts ``teacher_images``), its GKD sample (``GKDSample.from_row``,
``build_teacher_view``, the student's and the teacher's template inputs), its teacher-request
builder and its image loader (relative paths resolved through ``ROOT_IMAGE_DIR``).

ms-swift pins transformers<5.20 while vzero needs >=5.24, so it runs in a subprocess from a folder of
its own: the first test of a run installs ``tests/interop/ms-swift-requirements.txt`` there with
``pip --no-deps --target`` (``.interop/ms-swift``; ``VZERO_MS_SWIFT_PATH`` points elsewhere). Its Qwen-VL templates import ``qwen_vl_utils``, which
needs torchvision, so the template encoding itself is not run here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vzero_core.prompt_text import IMAGE_TAG
from vzero_data.store import export_swift

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SWIFT_PATH = Path(os.environ.get("VZERO_MS_SWIFT_PATH", REPO / ".interop" / "ms-swift"))
DRIVER = Path(__file__).with_name("swift_driver.py")


def _install_swift() -> None:
    """ms-swift and the packages its dataset code imports, pinned, into :data:`SWIFT_PATH` (once)."""
    if (SWIFT_PATH / "swift").is_dir():
        return
    requirements = Path(__file__).with_name("ms-swift-requirements.txt")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(SWIFT_PATH),
            "-r",
            str(requirements),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        pytest.fail(f"could not install ms-swift into {SWIFT_PATH}: {done.stderr[-1000:]}")


def _swift(folder: Path) -> subprocess.CompletedProcess:
    _install_swift()
    env = {**os.environ, "PYTHONPATH": str(SWIFT_PATH), "HF_DATASETS_CACHE": str(folder.parent / "hf-cache")}
    return subprocess.run(
        [sys.executable, str(DRIVER), str(folder)], capture_output=True, text=True, env=env, timeout=600
    )


def _read(folder: Path) -> dict:
    done = _swift(folder)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _jsonl(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "train.jsonl").read_text().splitlines()]


def test_ms_swift_reads_the_export_as_a_gkd_sample_with_the_teachers_own_images(interop_store, export_to):
    from PIL import Image

    folder = export_to(export_swift.export_swift, interop_store)
    seen = _read(folder)
    assert {"messages", "images", "teacher_prompt", "teacher_images"} <= set(seen["columns"])
    for exported, row in zip(_jsonl(folder), seen["rows"], strict=True):
        full, crop = (Image.open(folder / p).size for p in exported["teacher_images"])
        assert row["student_image_sizes"] == [list(full)]
        assert row["student_messages"][-1]["content"].count(IMAGE_TAG) == 1
        teacher_text = row["teacher_messages"][-1]["content"]
        assert teacher_text == exported["teacher_prompt"]  # ms-swift put it in the last user turn
        assert teacher_text.count(IMAGE_TAG) == len(row["teacher_image_sizes"]) == 2
        assert row["teacher_image_sizes"] == [list(full), list(crop)]  # full image first, crop after
        assert row["request_image_count"] == 2  # a teacher server gets the same two images


def test_a_missing_teacher_image_fails_ms_swifts_image_loading(interop_store, export_to):
    folder = export_to(export_swift.export_swift, interop_store)
    crop = _jsonl(folder)[0]["teacher_images"][1]
    (folder / crop).unlink()
    done = _swift(folder)
    assert done.returncode == 1 and done.stderr


def test_without_teacher_images_ms_swift_keeps_the_students_images_for_the_teacher(
    interop_store, export_to, monkeypatch
):
    """Why every row carries ``teacher_images``: without it ms-swift gives the teacher the student's
    one image for the teacher prompt's two ``<image>`` tags, and its template leaves a tag without
    an image as text (no error): the crop would silently never reach the teacher."""
    real_row = export_swift.swift_row

    def without_teacher_images(raw, negative, images):
        row = real_row(raw, negative, images)
        del row["teacher_images"]
        return row

    monkeypatch.setattr(export_swift, "swift_row", without_teacher_images)
    row = _read(export_to(export_swift.export_swift, interop_store))["rows"][0]
    assert row["teacher_messages"][-1]["content"].count(IMAGE_TAG) == 2
    assert len(row["teacher_image_sizes"]) == 1
