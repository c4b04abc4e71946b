"""Multiple choice by likelihood: the pick is the candidate with the highest summed log-prob, the same
as one unpadded forward per candidate computes, and the usual scoring reads it."""

import os

import pytest
import torch
from PIL import Image

from vzero_core.vlm.prompts import PromptTemplates, build_messages, encode_prompts, render_prompt
from vzero_data.benchmarks.items import EvalItem
from vzero_train.evaluate.likelihood import candidates, choose_by_likelihood
from vzero_train.evaluate.runner import evaluate_model, item_question


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from vzero_core.tiny_models import save_tiny_vlm
    from vzero_core.vlm.models import load_vlm

    path = save_tiny_vlm("qwen2_5_vl", tmp_path_factory.mktemp("tiny") / "qwen", image_size=224)
    return load_vlm(path, device="cpu", dtype="float32")


def _image(seed):
    g = torch.Generator().manual_seed(seed)
    pixels = (torch.rand(48, 64, 3, generator=g) * 255).to(torch.uint8).numpy()
    return lambda: Image.fromarray(pixels)


# options of different token lengths, so padding matters
ITEMS = [
    EvalItem("a", "t", "What colour is it?", "B", _image(0), ("red", "dark blue", "green", "a pale pink")),
    EvalItem("b", "t", "Which side?", "A", _image(1), ("left", "right")),
    EvalItem("c", "t", "What is shown?", "C", _image(2), ("cat", "dog", "bird in a tree", "fish")),
]


def _prompt(vlm, item):
    templates = PromptTemplates()
    return render_prompt(vlm.tokenizer, build_messages(templates.student, item_question(item), None))


def _one_forward_total(vlm, prompt, image, answer):
    """Summed log-prob of ``answer`` + end of turn after ``prompt``: one sequence, no padding."""
    enc = encode_prompts(vlm.processor, [prompt], [[image]], nested_images=vlm.nested_images)
    answer_ids = vlm.tokenizer(answer, add_special_tokens=False)["input_ids"] + [vlm.tokenizer.eos_token_id]
    ids = torch.cat([enc["input_ids"], torch.tensor([answer_ids])], dim=1)
    inputs = {**enc, "input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if "mm_token_type_ids" in enc:  # text tokens follow the image
        extra = torch.zeros((1, len(answer_ids)), dtype=enc["mm_token_type_ids"].dtype)
        inputs["mm_token_type_ids"] = torch.cat([enc["mm_token_type_ids"], extra], dim=1)
    with torch.no_grad():
        logits = vlm.model(**inputs).logits[0, -len(answer_ids) - 1 : -1].float()
    return logits.log_softmax(-1).gather(1, torch.tensor(answer_ids)[:, None]).sum().item()


@pytest.mark.parametrize("scoring", ["option", "letter"])
def test_the_pick_is_the_candidate_one_forward_each_ranks_first(tiny_vlm, scoring):
    prompts = [_prompt(tiny_vlm, it) for it in ITEMS]
    images = [it.load_image() for it in ITEMS]
    picks = choose_by_likelihood(tiny_vlm, ITEMS, prompts, images, scoring)
    for item, prompt, image, pick in zip(ITEMS, prompts, images, picks, strict=True):
        totals = {c: _one_forward_total(tiny_vlm, prompt, image, c) for c in candidates(item, scoring)}
        assert pick == max(totals, key=totals.get), totals


@pytest.mark.parametrize(
    "scoring, expected",
    [("option", ["red", "dark blue", "green", "a pale pink"]), ("letter", ["A", "B", "C", "D"])],
)
def test_candidates_are_written_as_the_model_was_taught_to_answer(scoring, expected):
    assert candidates(ITEMS[0], scoring) == expected


def test_evaluation_reads_every_pick_and_open_questions_still_generate(tiny_vlm):
    open_item = EvalItem("o", "t", "How many?", "3", _image(3))
    result = evaluate_model(tiny_vlm, [*ITEMS, open_item], batch_size=4, progress=False, scoring="option")
    chosen, generated = result.results[:3], result.results[3]
    assert all(r.parsed for r in chosen), [r.response for r in chosen]
    for item, r in zip(ITEMS, chosen, strict=True):
        assert r.response in item.options and r.prediction == "ABCD"[item.options.index(r.response)]
    plain = evaluate_model(tiny_vlm, [open_item], max_new_tokens=64, progress=False)
    assert generated.response == plain.results[0].response


def test_an_open_question_cannot_be_chosen_by_likelihood(tiny_vlm):
    item = EvalItem("o", "t", "How many?", "3", _image(3))
    with pytest.raises(ValueError, match="t/o: likelihood scoring needs options"):
        choose_by_likelihood(tiny_vlm, [item], [_prompt(tiny_vlm, item)], [item.load_image()], "option")
