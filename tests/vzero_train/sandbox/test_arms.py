import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from vzero_data.synth import SharedColourKnobs, make_shared_colour_scene
from vzero_train.sandbox.arms import RANDOM_WINDOW, arm, opd_records, to_opd_record
from vzero_train.trainer import train

STRATEGIES = ["distractor", "downsampled_distractor", "random_positive"]


@dataclass(frozen=True)
class Labelled:
    sample_id: str
    question: str
    image: Any
    positive: Any
    negatives: dict
    eval_answer: str | None
    eval_options: tuple[str, ...] | None
    metadata: dict = field(default_factory=dict)


def labelled(n=4):
    out = []
    for i in range(n):
        s = make_shared_colour_scene(9, i, SharedColourKnobs(size=64, objects_per_colour=1))
        box = tuple(int(v) for v in s.target.box.to_list())
        crop = s.image.crop(box)
        negatives = {
            name: s.image.crop((0, 0, crop.width, crop.height)).rotate(90 * k)
            for k, name in enumerate(STRATEGIES)
        }
        out.append(Labelled(f"sc-{i}", s.question, s.image, crop, negatives, s.answer, s.options))
    return out


@pytest.mark.parametrize(
    "name, overrides, strategies",
    [
        ("base", None, ()),
        ("plain", {"gate.enabled": False, "data.negative": "distractor"}, ("distractor",)),
        (
            "gate_downsampled_distractor",
            {"gate.enabled": True, "data.negative": "downsampled_distractor"},
            ("downsampled_distractor",),
        ),
        ("random_crop", {"gate.enabled": True, "data.negative": RANDOM_WINDOW}, ("random_positive",)),
        (
            "self_frozen",
            {"gate.enabled": False, "data.negative": "distractor", "teacher": {"kind": "frozen_self"}},
            ("distractor",),
        ),
        (
            "self_ema",
            {"gate.enabled": False, "data.negative": "distractor", "teacher": {"kind": "ema", "decay": 0.95}},
            ("distractor",),
        ),
        ("degraded_student", {"gate.enabled": False, "data.negative": "distractor"}, ("distractor",)),
        ("sft", {}, ()),
        (
            "paper_k1",
            {
                "gate.enabled": True,
                "data.negative": "distractor",
                "loss.estimator": "k1",
                "rollout.group_size": 4,
                "num_mini_batches": 2,
                "optim.warmup_steps": 0,
                "optim.schedule": "constant",
            },
            ("distractor",),
        ),
    ],
)
def test_arms_are_variants_of_the_train_section(name, overrides, strategies):
    a = arm(name, STRATEGIES)
    assert (a.overrides, a.strategies) == (overrides, strategies)


def test_an_unknown_arm_lists_the_known_ones():
    with pytest.raises(
        ValueError,
        match="unknown arm 'gate_masked'; known: base, sft, plain, paper_k1, random_crop, self_frozen, "
        "self_ema, degraded_student, gate_distractor",
    ):
        arm("gate_masked", STRATEGIES)


def test_an_opd_record_carries_the_options_but_no_answer_and_trains_on_the_evaluated_question():
    from vzero_core.prompt_text import sample_question
    from vzero_train.data import to_prompt_item

    record = labelled(1)[0]
    opd = to_opd_record(record, arm("gate_distractor", STRATEGIES), seed=0)
    assert opd.eval_options == record.eval_options and opd.question == record.question
    assert not hasattr(opd, "eval_answer") and opd.positive is record.positive
    item = to_prompt_item(opd, 0, negative="distractor", requested=None, seed=0)
    assert item.question == sample_question(record.question, record.eval_options, record.sample_id)
    assert item.question.startswith(record.question + "\n(A) ")


def test_the_random_crop_arm_uses_random_windows_as_both_views():
    record = labelled(1)[0]
    opd = to_opd_record(record, arm("random_crop", STRATEGIES), seed=0)
    assert opd.positive is record.negatives["random_positive"]
    window = opd.negatives[RANDOM_WINDOW]
    assert window.size == opd.positive.size
    again = to_opd_record(record, arm("random_crop", STRATEGIES), seed=0).negatives[RANDOM_WINDOW]
    assert window.tobytes() == again.tobytes()  # seeded by (seed, sample id)


def test_the_degraded_student_arm_shows_the_student_a_blurred_image_and_the_teacher_the_clean_one():
    from vzero_train.data import to_prompt_item

    record = labelled(1)[0]
    opd = to_opd_record(record, arm("degraded_student", STRATEGIES), seed=0)
    item = to_prompt_item(opd, 0, negative="distractor", requested=None, seed=0)
    assert item.image is record.image and item.student_image.size == record.image.size
    assert item.student_image.tobytes() != record.image.tobytes()
    plain = to_prompt_item(
        to_opd_record(record, arm("plain", STRATEGIES), 0), 0, negative="distractor", requested=None, seed=0
    )
    assert plain.student_image is plain.image


def _weights(result):
    from safetensors.torch import load_file

    return load_file(str(result.checkpoint / "model" / "model.safetensors"))


@pytest.mark.parametrize("name", ["plain", "gate_downsampled_distractor", "random_crop", "degraded_student"])
def test_no_opd_arm_reads_an_answer(tmp_path, train_config, name):
    """Blanking every answer (and the answer's option would change the question) leaves training
    bit-identical: the arm's records never carry the answer to the trainer."""
    records = labelled()
    blanked = [dataclasses.replace(r, eval_answer="") for r in records]
    a = arm(name, STRATEGIES)
    results = []
    for label, recs in (("real", records), ("blank", blanked)):
        config = train_config(
            output_dir=str(tmp_path / label),
            steps=2,
            data={"negative": a.overrides["data.negative"], "shuffle_buffer": 1},
            gate={"enabled": a.overrides["gate.enabled"]},
        )
        results.append(train(config, records=opd_records(lambda recs=recs: recs, a, seed=0)))
    real, blank = (_weights(r) for r in results)
    assert real.keys() == blank.keys() and all(torch.equal(real[k], blank[k]) for k in real)
    assert results[0].history[-1]["opd/reverse_kl_k1"] == results[1].history[-1]["opd/reverse_kl_k1"]
