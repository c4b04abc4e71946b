"""Training straight from a curated store through the store API."""

import pytest

from tests.store_builder import curate
from vzero_data.ingest import ingest
from vzero_data.store import open_store
from vzero_data.synth import write_scenes
from vzero_train.cli import main
from vzero_train.metrics import read_metrics


def _curated_store(root, configs=("cfg-test",), extra_negative=None):
    write_scenes(root / "synth", 4, size=192, seed=3, progress=False)
    store = open_store(root / "store", create=True)
    ingest(str(root / "synth"), "synthetic", store, progress=False)
    for config in configs:
        curate(store, config=config, positive_margin=0.5, extra_negative=extra_negative)
    return root / "store"


@pytest.mark.e2e
def test_cli_trains_on_a_curated_store(tmp_path, tiny_vlm):
    store = _curated_store(tmp_path)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "train:\n"
        f"  store: {store}\n"
        f"  output_dir: {tmp_path / 'run'}\n"
        f"  student: {tiny_vlm('qwen2_5_vl')}\n"
        f"  teacher: {{kind: external, path: {tiny_vlm('qwen2_5_vl', 'teacher')}}}\n"
        "  data: {negative: corner}\n"
        "  rollout: {group_size: 2, max_new_tokens: 4}\n"
        "  prompts_per_step: 2\n"
        "  steps: 2\n"
        "  device: cpu\n"
        "  tensorboard: false\n"
    )
    assert main(["train", str(recipe)]) == 0
    logged = read_metrics(tmp_path / "run")
    assert [r["step"] for r in logged] == [1, 2] and "gate/weight_mean" in logged[0]
    assert logged[-1]["data_position"] == 4


@pytest.mark.e2e
def test_train_shows_the_student_the_question_eval_shows_it(tmp_path, tiny_vlm, monkeypatch):
    """Through both entry points on one multiple-choice store: every student prompt ``vzero-train
    train`` renders is the prompt ``vzero-train eval --format store`` renders for that sample, with
    the lettered options and the instruction, in the same order."""
    from vzero_train import step
    from vzero_train.evaluate import runner

    rendered: dict[str, list[str]] = {"train": [], "eval": []}

    def recording(where, real):
        def render(tokenizer, messages):
            text = real(tokenizer, messages)
            rendered[where].append(text)
            return text

        return render

    monkeypatch.setattr(step, "render_prompt", recording("train", step.render_prompt))
    monkeypatch.setattr(runner, "render_prompt", recording("eval", runner.render_prompt))
    store = _curated_store(tmp_path)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "train:\n"
        f"  store: {store}\n"
        f"  output_dir: {tmp_path / 'run'}\n"
        f"  student: {tiny_vlm('qwen2_5_vl')}\n"
        f"  teacher: {{kind: external, path: {tiny_vlm('qwen2_5_vl', 'teacher')}}}\n"
        "  data: {negative: corner, shuffle_buffer: 1}\n"
        "  rollout: {group_size: 2, max_new_tokens: 2}\n"
        "  prompts_per_step: 2\n"
        "  steps: 2\n"
        "  device: cpu\n"
        "  tensorboard: false\n"
    )
    assert main(["train", str(recipe)]) == 0
    args = ["eval", "--model", tiny_vlm("qwen2_5_vl"), "--data", str(store), "--format", "store"]
    assert main([*args, "--out", str(tmp_path / "eval"), "--max-new-tokens", "2", "--no-plot"]) == 0
    student = {p for p in rendered["train"] if "zoomed-in view" not in p}
    assert len(student) == 4 and student == set(rendered["eval"])
    assert all("\n(A) " in p and "Answer with the option's letter" in p for p in student)


def test_a_store_of_several_configs_needs_one_named(tmp_path):
    from vzero_train.config import TrainConfig
    from vzero_train.data_checks import TrainingDataError
    from vzero_train.trainer import store_records

    store = _curated_store(tmp_path, configs=("cfg-a", "cfg-b"))
    config = TrainConfig(store=str(store), student="s", teacher={"kind": "frozen_self"})
    with pytest.raises(
        TrainingDataError, match=r"several curation configs \(cfg-a, cfg-b\).*train.data.config_hash"
    ):
        store_records(config)
    chosen = TrainConfig(
        store=str(store), student="s", teacher={"kind": "frozen_self"}, data={"config_hash": "cfg-b"}
    )
    records = list(store_records(chosen)())
    assert len(records) == 4 and {r.config_hash for r in records} == {"cfg-b"}


@pytest.mark.parametrize(
    "negative, negatives",
    [
        ("corner", [{"corner"}]),  # the full image, the positive and the named negative
        ("random", [{"corner", "masked"}]),  # one drawn of the two stored: only that one is decoded
        ("relative", []),  # computed from the other two: no stored negative decoded
    ],
)
def test_only_this_process_share_is_decoded(tmp_path, monkeypatch, negative, negatives):
    """A resumed process of two skips the consumed records and the other process's share on their
    raw rows: it decodes exactly the images of its own item, and of its negatives only the one used."""
    from vzero_core import image_io
    from vzero_train.config import TrainConfig
    from vzero_train.data import PromptStream
    from vzero_train.setup import store_records

    store = _curated_store(tmp_path, extra_negative="masked")
    config = TrainConfig(
        store=str(store), student="s", teacher={"kind": "frozen_self"}, data={"negative": negative}
    )
    decoded: list[str] = []
    real = image_io.decode_image

    def counting(data, where="<bytes>", **kwargs):
        decoded.append(where)
        return real(data, where, **kwargs)

    monkeypatch.setattr(image_io, "decode_image", counting)
    stream = PromptStream(
        store_records(config), negative=negative, rank=1, world_size=2, position=2, shuffle_buffer=4
    )
    assert decoded == [], "records consumed before the resume point are skipped undecoded"
    (item,) = stream.next_batch(2)  # the second of two items: this process's share
    assert item.index == 3 and stream.position == 4
    image, positive, *views = decoded
    assert ": image " in image and positive.endswith(f"positive view of {item.sample_id}")
    assert len(views) == len(negatives)
    for where, allowed in zip(views, negatives, strict=True):
        name, _, sample = where.split(": ")[-1].partition(" view of ")
        assert name in allowed and name == item.negative_strategy and sample == item.sample_id
    assert (item.negative is None) == (negative == "relative")


def test_training_can_require_views_an_audit_accepted(tmp_path):
    """``data.audited_by``: samples the audit did not score or rejected, and negatives it rejected,
    never reach training; ``vzero-train train --audited-by`` sets it."""
    import argparse

    from tests.vzero_data.audit.test_writer import TEACHER, result, views_of
    from vzero_data.audit.writer import AuditWriter
    from vzero_train.commands.train import add_arguments, recipe_overrides
    from vzero_train.config import TrainConfig
    from vzero_train.trainer import store_records

    store = _curated_store(tmp_path)
    views = views_of(open_store(store))
    sids = sorted(views)
    with AuditWriter(open_store(store).root, "run", TEACHER, "h1") as w:
        w.add(result(sids[0], views[sids[0]]))
        w.add(result(sids[1], views[sids[1]], rejected=views[sids[1]]["negative"]))
    config = TrainConfig(
        store=str(store),
        student="s",
        teacher={"kind": "frozen_self"},
        data={"negative": "corner", "audited_by": TEACHER.id},
    )
    assert [r.sample_id for r in store_records(config)()] == [sids[0]]
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["recipe.yaml", "--audited-by", TEACHER.id])
    assert ("data.audited_by", TEACHER.id) in recipe_overrides(args)
