"""The ms-swift, TRL and Vision-OPD exports (their trainers' own code reads them in tests/interop/):
the question as training shows it, the teacher's images in template order, images written once,
skips counted, and the command line's overwrite rules."""

import json
from dataclasses import replace

import pytest
from PIL import Image

from vzero_core.choices import LETTERS
from vzero_core.prompt_text import CROP_TAG, IMAGE_TAG, sample_options, sample_question
from vzero_data.store.export_swift import export_swift
from vzero_data.store.export_trl import export_trl
from vzero_data.store.export_vision_opd import export_vision_opd
from vzero_data.store.layout import StoreError


def _jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _samples(store):
    return {s.sample_id: s for s in store.iter_samples("ingest")}


def test_swift_rows_show_the_training_question_and_the_teachers_two_images(curated_store, tmp_path):
    summary = export_swift(curated_store, tmp_path / "swift", progress=False)
    assert summary.written == 3 and summary.as_dict()["skipped_missing_negative"] == {"corner": 1}
    samples = _samples(curated_store)
    for row in _jsonl(tmp_path / "swift" / "train.jsonl"):
        s = samples[row["sample_id"]]
        question = sample_question(s.question, s.options, s.sample_id)
        assert row["messages"] == [{"role": "user", "content": f"{IMAGE_TAG}\n{question}"}]
        assert row["teacher_prompt"].startswith(f"{IMAGE_TAG}\n{question}\n")
        assert row["teacher_prompt"].count(IMAGE_TAG) == len(row["teacher_images"]) == 2
        assert CROP_TAG not in row["teacher_prompt"]
        assert row["teacher_images"][0] == row["images"][0] == row["teacher_neg_images"][0]
        full, crop = (Image.open(tmp_path / "swift" / p) for p in row["teacher_images"])
        assert full.size == (s.width, s.height) and crop.size == (
            round(s.boxes[0].width),
            round(s.boxes[0].height),
        )
        shown = sample_options(s.options, s.sample_id)
        assert row["solution"] == LETTERS[shown.index(s.answer)]
    assert len(list((tmp_path / "swift" / "images").iterdir())) == 3 * 3  # full, crop, negative: once each


def test_vision_opd_rows_give_the_teacher_the_crop_alone(curated_store, tmp_path):
    export_vision_opd(curated_store, tmp_path / "vopd", progress=False)
    samples = _samples(curated_store)
    for row in _jsonl(tmp_path / "vopd" / "train.jsonl"):
        s = samples[row["extra_info"]["sample_id"]]
        assert row["problem"] == f"{IMAGE_TAG}\n{sample_question(s.question, s.options, s.sample_id)}"
        assert row["images"][0].startswith("images/") and row["teacher_images"][0].startswith(
            "teacher_images/"
        )
        assert len(row["teacher_images"]) == row["problem"].count(IMAGE_TAG) == 1
        assert row["extra_info"]["options"] == list(sample_options(s.options, s.sample_id))


def test_trl_rows_are_messages_with_image_parts_in_template_order(curated_store, tmp_path):
    import datasets

    export_trl(curated_store, tmp_path / "trl", progress=False)
    row = datasets.load_from_disk(str(tmp_path / "trl"))[0]
    assert [p["type"] for p in row["prompt"][0]["content"]] == ["image", "text"]
    assert [p["type"] for p in row["teacher_prompt"][0]["content"]] == ["image", "text", "image"]
    assert len(row["images"]) == 1 and len(row["teacher_images"]) == len(row["teacher_neg_images"]) == 2


@pytest.mark.parametrize("export", [export_swift, export_trl, export_vision_opd])
def test_placeholder_questions_are_skipped_and_existing_output_refused(curated_store, tmp_path, export):
    s = next(iter(curated_store.iter_samples("ingest")))
    bad = replace(s, sample_id="bad-question", question=f"Is there a {CROP_TAG} here?")
    with curated_store.writer("r", "cfg-test") as w:
        w.add_sample(bad)
        for kind, strategy in (("positive", "crop"), ("negative", "corner")):
            w.add_view(
                bad.sample_id,
                {
                    "kind": kind,
                    "strategy": strategy,
                    "image_bytes": curated_store.image_bytes([s.image_sha256])[s.image_sha256],
                },
            )
        w.commit_sample(bad.sample_id)
    summary = export(curated_store, tmp_path / "out", progress=False)
    assert summary.written == 3 and summary.skipped_placeholder == 1
    with pytest.raises(StoreError, match="already exists"):
        export(curated_store, tmp_path / "out", progress=False)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no work folder left behind


@pytest.mark.parametrize("fmt", ["swift", "trl", "vision_opd"])
def test_cli_overwrite_replaces_only_an_earlier_export(curated_store, tmp_path, capsys, fmt):
    from vzero_data.cli import main

    out = tmp_path / "out"
    args = ["export", str(curated_store.root), "--format", fmt, "--out", str(out)]
    assert main(args) == 0
    assert main(args) == 2 and "already exists" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    other = tmp_path / "notes"
    other.mkdir()
    assert main([*args[:-1], str(other), "--overwrite"]) == 2
    assert "an export wrote; not replacing it" in capsys.readouterr().err
    assert main([*args, "--options-in-prompt"]) == 2
