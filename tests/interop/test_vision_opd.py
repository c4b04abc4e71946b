"""Vision-OPD's own code on ``export --format vision_opd``: its ``scripts/prepare_data.py`` turns
the folder into the Parquet its trainer reads, its dataset (``RLHFDataset._build_messages``) builds
the student's messages and its trainer (``_prepare_teacher_messages``) gives the teacher the crop.

Vision-OPD is not on a package registry. The test runs a copy of its repository at the commit
below, from ``VZERO_VISION_OPD_SRC`` (with the packages its modules import, which are not vzero's,
on ``VZERO_VISION_OPD_DEPS``: omegaconf, hydra-core, antlr4-python3-runtime 4.9.3, codetiming,
tensordict, pyvers, torchdata, peft; ray comes with vzero's dev extra). Without it the test is
skipped: CI, which reaches only package registries, cannot fetch it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vzero_data.store import export_vision_opd

pytestmark = pytest.mark.e2e

VISION_OPD_COMMIT = "c2e345fcab10c806ba83e2ec6e1e246d73e7aba2"  # VisionOPD/Vision-OPD, 2026-06-14
DRIVER = Path(__file__).with_name("vision_opd_driver.py")


def _vision_opd(folder: Path) -> subprocess.CompletedProcess:
    src = os.environ.get("VZERO_VISION_OPD_SRC")
    if not src:
        pytest.skip(f"set VZERO_VISION_OPD_SRC to Vision-OPD's repository at {VISION_OPD_COMMIT}")
    path = os.pathsep.join(p for p in (src, os.environ.get("VZERO_VISION_OPD_DEPS", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "HF_DATASETS_CACHE": str(folder.parent / "hf-cache")}
    return subprocess.run(
        [sys.executable, str(DRIVER), str(folder), src], capture_output=True, text=True, env=env, timeout=600
    )


def test_vision_opd_prepares_and_reads_the_export(interop_store, export_to):
    from PIL import Image

    folder = export_to(export_vision_opd.export_vision_opd, interop_store)
    done = _vision_opd(folder)
    assert done.returncode == 0, done.stderr[-2000:]
    exported = [json.loads(line) for line in (folder / "train.jsonl").read_text().splitlines()]
    for row, seen in zip(exported, json.loads(done.stdout.splitlines()[-1])["rows"], strict=True):
        assert seen["student_parts"].count("image") == 1
        crop = Image.open(folder / row["teacher_images"][0]).size
        assert seen["teacher_image_sizes"] == [list(crop)]  # the crop in the full image's place
        assert seen["question"] == row["extra_info"]["question"]


@pytest.mark.parametrize("broken", ["missing teacher image", "wrong placeholder count"])
def test_vision_opd_refuses_a_broken_export(interop_store, export_to, monkeypatch, broken):
    real_row = export_vision_opd.vision_opd_row

    def broken_row(raw, negative, images, teacher_images):
        row = real_row(raw, negative, images, teacher_images)
        if broken == "missing teacher image":
            row["teacher_images"] = []
        else:
            row["problem"] = row["problem"] + "\n<image>"
        return row

    monkeypatch.setattr(export_vision_opd, "vision_opd_row", broken_row)
    done = _vision_opd(export_to(export_vision_opd.export_vision_opd, interop_store))
    assert done.returncode == 1 and done.stderr
