"""Supervised fine-tuning: examples from labelled records, the answer loss, checkpoints and resume."""

from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from PIL import Image

from vzero_core.vlm.models import load_vlm
from vzero_core.vlm.prompts import build_messages, encode_prompts, render_prompt
from vzero_train.data import DataError
from vzero_train.sft import to_sft_example, train_sft
from vzero_train.sft_config import SFTConfig
from vzero_train.sft_loss import answer_nll


@dataclass(frozen=True)
class Labelled:
    sample_id: str
    question: str
    image: Any
    positive: Any
    eval_answer: str | None
    eval_options: tuple[str, ...] | None
    negatives: dict = field(default_factory=dict)


FULL, CROP = Image.new("RGB", (64, 64), "red"), Image.new("RGB", (16, 16), "blue")
OPTIONS = ("red", "blue", "green")


@pytest.mark.parametrize(
    "answer, options, inputs, target_kind, expected",
    [
        ("blue", OPTIONS, "full", "option", "blue"),
        ("blue", OPTIONS, "full", "letter", "B"),
        ("C", OPTIONS, "full_and_positive", "option", "green"),  # a stored letter answer
        ("(A)", OPTIONS, "full", "letter", "A"),
        ("a cat", None, "full", "option", "a cat"),  # open question: the answer text
    ],
)
def test_an_example_asks_as_evaluation_does_and_targets_the_answer(
    answer, options, inputs, target_kind, expected
):
    record = Labelled("s1", "What colour?", FULL, CROP, answer, options)
    example = to_sft_example(record, inputs=inputs, answer=target_kind)
    assert example.answer == expected
    if options:
        assert example.question == "What colour?\n(A) red\n(B) blue\n(C) green\n" + (
            "Answer with the option's letter from the given choices directly."
        )
    else:
        assert example.question == "What colour?\nAnswer the question using a single word or phrase."
    assert example.images == ((FULL,) if inputs == "full" else (FULL, CROP))


@pytest.mark.parametrize(
    "answer, options, message",
    [
        (None, OPTIONS, "sample s1: no answer to train on"),
        ("purple", OPTIONS, "sample s1: answer 'purple' is neither an option letter"),
    ],
)
def test_records_without_a_usable_answer_are_refused_naming_the_sample(answer, options, message):
    with pytest.raises((DataError, ValueError), match=message):
        to_sft_example(Labelled("s1", "Q?", FULL, CROP, answer, options), inputs="full", answer="option")


def test_the_answer_loss_equals_the_models_own_label_loss(tiny_vlm):
    """Pins token alignment: the NLL of the answer after the prompt equals transformers' own
    shifted cross-entropy over the same concatenated sequence with the prompt masked out."""
    vlm = load_vlm(tiny_vlm("qwen2_5_vl"), device="cpu", dtype="float32")
    tok = vlm.tokenizer
    prompt = render_prompt(tok, build_messages("<image>\n{question}", "What is the color?"))
    answer = "red"
    nll, count = answer_nll(vlm.model, vlm.processor, [prompt], [[FULL]], [answer], nested_images=False)
    enc = encode_prompts(vlm.processor, [prompt], [[FULL]], nested_images=False)
    ids = tok(answer, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    full = dict(enc)
    full["input_ids"] = torch.cat([enc["input_ids"], torch.tensor([ids])], dim=1)
    full["attention_mask"] = torch.ones_like(full["input_ids"])
    full["mm_token_type_ids"] = torch.cat(
        [enc["mm_token_type_ids"], torch.zeros(1, len(ids), dtype=torch.long)], 1
    )
    labels = full["input_ids"].clone()
    labels[:, : enc["input_ids"].shape[1]] = -100
    with torch.no_grad():
        expected = vlm.model(**full, labels=labels).loss.item()
    assert count == len(ids)
    assert nll.item() / count == pytest.approx(expected, rel=1e-5)


def _records(n=4):
    from vzero_data.synth import SharedColourKnobs, make_shared_colour_scene

    out = []
    for i in range(n):
        s = make_shared_colour_scene(0, i, SharedColourKnobs(size=64, objects_per_colour=1))
        crop = s.image.crop(tuple(int(v) for v in s.target.box.to_list()))
        out.append(Labelled(f"sc-{i}", s.question, s.image, crop, s.answer, s.options))
    return out


def _config(tmp_path, tiny_vlm, **overrides):
    base = dict(
        model=tiny_vlm("qwen2_5_vl"),
        output_dir=str(tmp_path / "sft"),
        steps=4,
        batch_size=2,
        micro_batch_size=1,
        save_every=2,
        keep_last=None,
        optim={"lr": 1e-3},
        data={"shuffle_buffer": 2},
        device="cpu",
    )
    return SFTConfig.model_validate({**base, **overrides})


def _weights(path):
    from safetensors.torch import load_file

    return load_file(str(path / "model" / "model.safetensors"))


def test_sft_checkpoints_resume_exactly(tmp_path, tiny_vlm):
    records = _records()
    straight = train_sft(_config(tmp_path / "a", tiny_vlm), records=lambda: records, progress=False)
    half = train_sft(_config(tmp_path / "b", tiny_vlm), records=lambda: records, steps=2, progress=False)
    assert half.step == 2
    resumed = train_sft(_config(tmp_path / "b", tiny_vlm), records=lambda: records, progress=False)
    assert resumed.step == 4 and [h["step"] for h in resumed.history] == [3, 4]
    assert resumed.history[-1]["data_position"] == 8
    a, b = _weights(straight.checkpoint), _weights(resumed.checkpoint)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    first = _weights(half.checkpoint)
    assert any(not torch.equal(first[k], a[k]) for k in a)  # training moved the weights


def test_sft_lowers_the_answer_loss_on_a_small_set(tmp_path, tiny_vlm):
    records = _records(2)
    result = train_sft(
        _config(
            tmp_path,
            tiny_vlm,
            steps=12,
            batch_size=2,
            micro_batch_size=2,
            save_every=100,
            inputs="full_and_positive",
            optim={"lr": 1e-2},
        ),
        records=lambda: records,
        progress=False,
    )
    losses = [h["loss/sft"] for h in result.history]
    assert max(losses[-3:]) < 0.6 * losses[0]
