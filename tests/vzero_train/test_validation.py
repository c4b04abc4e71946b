import json
import random
import shutil

import numpy as np
import pytest
import torch

from vzero_core.vlm.prompts import PromptTemplates
from vzero_data.synth import write_scenes
from vzero_train import validation as validation_module
from vzero_train.config import RecipeError, ValidationConfig, load_train_config
from vzero_train.metrics import read_metrics
from vzero_train.trainer import Trainer
from vzero_train.validation import Validator, preserved_rng, validation_due

EVAL_KEYS = {f"eval/synth/{k}" for k in ("accuracy", "ci_low", "ci_high", "n", "unparseable", "skipped")}


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """Four synthetic scenes with multiple-choice questions, as `vzero-data synth` writes them."""
    out = tmp_path_factory.mktemp("valid") / "synth"
    write_scenes(out, 4, size=128, seed=3, progress=False)
    return out


def _validation(synth, **fields) -> dict:
    return {"data": str(synth), "limit": 3, "batch_size": 2, "max_new_tokens": 3, **fields}


def _eval_steps(run_dir) -> list[int]:
    return [r["step"] for r in read_metrics(run_dir) if "eval/synth/n" in r]


@pytest.mark.parametrize(
    "fields, total, due_steps",
    [
        ({}, 5, []),  # no data: off
        ({"data": "x", "every": 2}, 5, [0, 2, 4, 5]),
        ({"data": "x", "every": 2, "at_start": False}, 4, [2, 4]),
        ({"data": "x", "every": 0}, 5, [0, 5]),  # 0: only at the end (and the start)
        ({"data": "x", "every": 0, "at_start": False}, 3, [3]),
        ({"data": "x", "every": 10}, 3, [0, 3]),
    ],
)
def test_validation_due(fields, total, due_steps):
    config = ValidationConfig(**fields)
    assert [s for s in range(total + 1) if validation_due(config, s, total)] == due_steps


@pytest.mark.parametrize(
    "validation, field",
    [
        ({"every": -1}, "train.validation.every"),
        ({"limit": 0}, "train.validation.limit"),
        ({"batch_size": 0}, "train.validation.batch_size"),
        ({"max_new_tokens": 0}, "train.validation.max_new_tokens"),
        ({"format": "nope"}, "train.validation.format"),
        ({"data": "  "}, "train.validation.data"),
        ({"evry": 2}, "train.validation.evry"),
    ],
)
def test_bad_validation_fields_are_named(tmp_path, validation, field):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        json.dumps({"train": {"student": "s", "teacher": {"kind": "ema"}, "validation": validation}})
    )
    with pytest.raises(RecipeError, match=field.replace(".", r"\.")):
        load_train_config(recipe)


@pytest.mark.parametrize(
    "validation, message",
    [
        ({"data": "missing/dir"}, "benchmark source not found"),
        ({"data": "{synth}", "format": "vstar"}, "train.validation.data"),
    ],
)
def test_a_bad_validation_set_fails_before_training(tmp_path, synth, validation, message):
    config = ValidationConfig(**{k: v.format(synth=synth) for k, v in validation.items()})
    with pytest.raises(ValueError, match=message):
        Validator(config, PromptTemplates(), tmp_path)


def test_preserved_rng_restores_every_stream():
    def draw():
        return random.random(), float(np.random.rand()), float(torch.rand(1))

    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    expected = draw()
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    with preserved_rng():
        draw(), draw()
    assert draw() == expected


def test_validation_logs_eval_metrics_and_leaves_training_unchanged(
    tmp_path, train_config, records, synth, monkeypatch
):
    real = validation_module.evaluate_model

    def rng_hungry(*args, **kwargs):  # evaluation that draws from every global stream
        random.random(), np.random.rand(), torch.rand(3)
        return real(*args, **kwargs)

    def rng_states():
        return torch.get_rng_state(), np.random.get_state()[1], random.getstate()

    def trained(trainer):
        random.seed(0), np.random.seed(0)
        result = trainer.train()
        return result, rng_states()

    monkeypatch.setattr(validation_module, "evaluate_model", rng_hungry)
    plain = Trainer(train_config(output_dir=str(tmp_path / "plain"), steps=2), records=lambda: records)
    _, plain_rng = trained(plain)
    validated = Trainer(
        train_config(
            output_dir=str(tmp_path / "validated"),
            steps=2,
            validation=_validation(synth, every=1),
            log_every=5,
        ),
        records=lambda: records,
    )
    result, validated_rng = trained(validated)

    assert torch.equal(plain_rng[0], validated_rng[0])
    assert np.array_equal(plain_rng[1], validated_rng[1]) and plain_rng[2] == validated_rng[2]
    after = dict(validated.student.model.named_parameters())
    for name, value in plain.student.model.named_parameters():
        assert torch.equal(value, after[name]), name
    logged = read_metrics(tmp_path / "validated")
    assert _eval_steps(tmp_path / "validated") == [0, 1, 2]
    assert [r["step"] for r in logged] == [0, 1, 2]  # evaluation forces a log line despite log_every
    assert all(set(r) >= EVAL_KEYS for r in logged)
    assert all(r["eval/synth/n"] == 3 and 0 <= r["eval/synth/accuracy"] <= 1 for r in logged)
    assert "opd/reverse_kl_k1" in logged[1] and "opd/reverse_kl_k1" not in logged[0]
    assert [h["step"] for h in result.history] == [0, 1, 2]
    for step in (0, 1, 2):
        lines = (tmp_path / "validated" / "eval" / f"step_{step}" / "synth.jsonl").read_text().splitlines()
        assert len(lines) == 3 and {"item_id", "response", "correct"} <= set(json.loads(lines[0]))
    assert not (tmp_path / "plain" / "eval").exists()


def test_resume_evaluates_at_the_right_steps(tmp_path, train_config, records, synth):
    def run(**overrides):
        config = train_config(validation=_validation(synth, every=2), steps=4, save_every=2, keep_last=None)
        trainer = Trainer(config.model_copy(update=overrides), records=lambda: records)
        trainer.train()
        return trainer

    run()
    run_dir = tmp_path / "run"
    assert _eval_steps(run_dir) == [0, 2, 4]
    first = (run_dir / "eval" / "step_4" / "synth.jsonl").read_text()
    # As if the run died after evaluating step 4 but before its checkpoint was complete; a stale
    # step-5 folder stands for any later leftovers.
    shutil.rmtree(run_dir / "checkpoints" / "step_4")
    (run_dir / "eval" / "step_5").mkdir()
    resumed = run()
    assert resumed.step == 4
    assert _eval_steps(run_dir) == [0, 2, 4], "steps 3-4 redone once, step 0 and 2 not re-evaluated"
    assert sorted(p.name for p in (run_dir / "eval").iterdir()) == ["step_0", "step_2", "step_4"]
    assert (run_dir / "eval" / "step_4" / "synth.jsonl").read_text() == first

    run(output_dir=str(run_dir))  # already finished: nothing more is evaluated
    assert _eval_steps(run_dir) == [0, 2, 4]
