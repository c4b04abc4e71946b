import io
import json

import pyarrow.parquet as pq
import pytest
from PIL import Image

from tests.store_builder import curate
from vzero_core.prompt_text import CROP_TAG, DEFAULT_TEACHER_TEMPLATE, IMAGE_TAG, fill_question
from vzero_data.store.export_hf import export_hf
from vzero_data.store.export_verl import export_verl
from vzero_data.store.layout import StoreError

COLUMNS = [
    "data_source",
    "prompt",
    "images",
    "teacher_raw_prompt",
    "teacher_images",
    "teacher_neg_raw_prompt",
    "teacher_neg_images",
    "reward_model",
    "extra_info",
]


def _decode(payload: dict) -> Image.Image:
    assert set(payload) == {"bytes"}
    img = Image.open(io.BytesIO(payload["bytes"]))
    img.load()
    return img


def test_verl_export_fields(curated_store, tmp_path):
    out = tmp_path / "train.parquet"
    summary = export_verl(curated_store, out, progress=False)
    assert summary.written == 3 and summary.negative_strategy == "corner"
    assert summary.as_dict()["skipped_missing_negative"] == {"corner": 1}  # counted, never silent
    table = pq.read_table(out)
    assert table.column_names == COLUMNS
    samples = {s.sample_id: s for s in curated_store.iter_samples("ingest")}
    for i, row in enumerate(table.to_pylist()):
        s = samples[row["extra_info"]["sample_id"]]
        user = row["prompt"][0]
        assert user["role"] == "user" and user["content"].count(IMAGE_TAG) == len(row["images"]) == 1
        assert s.question in user["content"]
        teacher = row["teacher_raw_prompt"][0]["content"]
        assert teacher.count(IMAGE_TAG) == 1 and teacher.count(CROP_TAG) == len(row["teacher_images"]) == 1
        assert teacher.index(IMAGE_TAG) < teacher.index(CROP_TAG)  # full image first, crop after
        assert teacher == fill_question(DEFAULT_TEACHER_TEMPLATE, s.question)  # the trainer's default text
        assert row["teacher_neg_raw_prompt"] == row["teacher_raw_prompt"]
        assert len(row["teacher_neg_images"]) == len(row["teacher_images"])
        assert _decode(row["images"][0]).size == (s.width, s.height)
        assert _decode(row["teacher_neg_images"][0]).size == (24, 24)
        box = s.boxes[0]
        assert _decode(row["teacher_images"][0]).size == (round(box.width), round(box.height))
        assert row["reward_model"] == {"ground_truth": s.answer}
        assert row["extra_info"]["index"] == i and row["extra_info"]["question"] == s.question
        assert row["extra_info"]["choices"] == list(s.options)
        assert (
            row["data_source"] == "zwz_vqa"
        )  # a name upstream's reward accepts, not the store's "synthetic"
    assert not list(tmp_path.glob(".*tmp*"))


def test_verl_random_images_column(ingested_store, tmp_path):
    curate(ingested_store, extra_negative="small")
    summary = export_verl(
        ingested_store,
        tmp_path / "t.parquet",
        negative_strategy="corner",
        random_strategy="small",
        progress=False,
    )
    table = pq.read_table(tmp_path / "t.parquet")
    assert summary.written == 4 and "teacher_random_images" in table.column_names
    assert all(len(r) == 1 for r in table.column("teacher_random_images").to_pylist())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"negative_strategy": "nope"}, "no valid negative views of strategy 'nope'.*known: corner, small"),
        ({}, "several negative strategies .*--negative-strategy"),
    ],
)
def test_verl_strategy_errors(ingested_store, tmp_path, kwargs, message):
    curate(ingested_store, extra_negative="small")
    with pytest.raises(StoreError, match=message):
        export_verl(ingested_store, tmp_path / "t.parquet", progress=False, **kwargs)


def test_export_of_a_store_holding_several_configs_must_name_one(curated_store, tmp_path):
    curate(curated_store, config="cfg-other")  # an ablation curated into the same store
    with pytest.raises(StoreError, match="several config hashes .*cfg-other, cfg-test.*--config-hash"):
        export_verl(curated_store, tmp_path / "t.parquet", progress=False)
    with pytest.raises(StoreError, match="several config hashes"):
        export_hf(curated_store, tmp_path / "hf", progress=False)
    summary = export_verl(curated_store, tmp_path / "t.parquet", config_hash="cfg-other", progress=False)
    sample_ids = [
        e["sample_id"] for e in pq.read_table(tmp_path / "t.parquet").column("extra_info").to_pylist()
    ]
    assert summary.written == 4 and len(set(sample_ids)) == 4


def test_verl_export_of_uncurated_store_is_an_error(ingested_store, tmp_path):
    with pytest.raises(StoreError, match="no valid negative views"):
        export_verl(ingested_store, tmp_path / "t.parquet", progress=False)


def test_question_with_placeholder_is_skipped_and_counted(curated_store, tmp_path):
    s = next(iter(curated_store.iter_samples("ingest")))
    from dataclasses import replace

    from vzero_core.image_io import decode_image, encode_image

    bad = replace(s, sample_id="bad-question", question=f"Is there a {CROP_TAG} here?")
    image = decode_image(curated_store.image_bytes([s.image_sha256])[s.image_sha256])
    with curated_store.writer("r", "cfg-test") as w:
        w.add_sample(bad)
        for kind, strategy in (("positive", "crop"), ("negative", "corner")):
            w.add_view(
                bad.sample_id,
                {"kind": kind, "strategy": strategy, "image_bytes": encode_image(image.crop((0, 0, 8, 8)))},
            )
        w.commit_sample(bad.sample_id)
    summary = export_verl(curated_store, tmp_path / "t.parquet", progress=False)
    assert summary.written == 3 and summary.skipped_placeholder == 1
    assert json.dumps(summary.as_dict())


def _verl_rows(store, out, *flags):
    from vzero_data.cli import main

    assert main(["export", str(store.root), "--format", "verl", "--out", str(out), *flags]) == 0
    return pq.read_table(out).to_pylist()


@pytest.mark.parametrize("flags, expected", [((), "zwz_vqa"), (("--data-source", "vstar"), "vstar")])
def test_cli_data_source(curated_store, tmp_path, flags, expected):
    rows = _verl_rows(curated_store, tmp_path / "t.parquet", *flags)
    assert {r["data_source"] for r in rows} == {expected}


def test_cli_options_in_prompt_shows_lettered_options_in_a_fixed_per_sample_order(curated_store, tmp_path):
    from vzero_core.choices import LETTERS

    plain = {r["extra_info"]["sample_id"]: r for r in _verl_rows(curated_store, tmp_path / "a.parquet")}
    shown = _verl_rows(curated_store, tmp_path / "b.parquet", "--options-in-prompt")
    again = _verl_rows(curated_store, tmp_path / "c.parquet", "--options-in-prompt")
    assert shown == again  # the order is fixed per sample
    samples = {s.sample_id: s for s in curated_store.iter_samples("ingest")}
    for row in shown:
        s = samples[row["extra_info"]["sample_id"]]
        choices = row["extra_info"]["choices"]
        assert sorted(choices) == sorted(s.options) and s.options
        student = row["prompt"][0]["content"]
        lines = [f"({LETTERS[i]}) {o}" for i, o in enumerate(choices)]
        assert all(line in student for line in lines) and student.index(s.question) < student.index(lines[0])
        teacher = row["teacher_raw_prompt"][0]["content"]
        assert all(line in teacher for line in lines)  # the teacher replays the same text
        letter = row["reward_model"]["ground_truth"]
        assert choices[LETTERS.index(letter)] == s.answer
        assert row["extra_info"]["question"] == s.question
        assert "(A)" not in plain[s.sample_id]["prompt"][0]["content"]  # without the flag: question only
    assert len(shown) >= 3


def test_verl_only_flags_are_refused_for_hf(curated_store, tmp_path, capsys):
    from vzero_data.cli import main

    code = main(
        [
            "export",
            str(curated_store.root),
            "--format",
            "hf",
            "--out",
            str(tmp_path / "hf"),
            "--options-in-prompt",
        ]
    )
    assert code != 0 and "--options-in-prompt applies to --format verl only" in capsys.readouterr().err


def test_several_negatives_default_to_the_one_training_uses(ingested_store, tmp_path):
    """A demo-style store holds every strategy: like training, the export takes downsampled_distractor."""
    from vzero_data.store.export_hf import export_hf

    curate(ingested_store, extra_negative="downsampled_distractor")
    verl = export_verl(ingested_store, tmp_path / "t.parquet", progress=False)
    hf = export_hf(ingested_store, tmp_path / "hf", progress=False)
    assert verl.negative_strategy == hf.negative_strategy == "downsampled_distractor"
    assert verl.written == hf.written == 4


@pytest.mark.parametrize("out, written", [("t.parquet", "t.parquet"), ("verl", "verl/train.parquet")])
def test_verl_out_is_a_parquet_file_or_a_folder(curated_store, tmp_path, out, written):
    summary = export_verl(curated_store, tmp_path / out, progress=False)
    assert summary.out == str(tmp_path / written)
    assert pq.read_table(tmp_path / written).num_rows == summary.written > 0
