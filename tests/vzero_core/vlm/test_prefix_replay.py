"""Sharing the teacher's prefix: branching one cached forward of system + full image + question gives
the log-probs of a full forward per row and view, in every supported family."""

import numpy as np
import pytest
import torch
from PIL import Image

from vzero_core.tiny_models import VLM_FAMILIES
from vzero_core.vlm.models import load_vlm
from vzero_core.vlm.prefix_replay import encode_teacher_prompts, shared_prefix_logprobs, split_at_crop
from vzero_core.vlm.prompts import PromptTemplates, build_messages, encode_prompts, render_prompt
from vzero_core.vlm.replay import replay_logprobs

ROWS = [0, 0, 0, 1, 1, 1]  # G = 3 samples of each of two prompts


@pytest.mark.parametrize(
    "prompt, expected",
    [
        ("a<I>b<I>c", ("a<I>b", "<I>c")),
        ("<I><I>", ("<I>", "<I>")),
        ("sys<I>\nq: <I><end>Assistant:", ("sys<I>\nq: ", "<I><end>Assistant:")),
    ],
)
def test_split_at_crop(prompt, expected):
    assert split_at_crop(prompt, "<I>") == expected


@pytest.mark.parametrize("prompt, found", [("a<I>b", 1), ("abc", 0), ("<I>a<I>b<I>", 3)])
def test_split_at_crop_needs_exactly_two_images(prompt, found):
    with pytest.raises(ValueError, match=f"exactly two image placeholders '<I>' .*found {found}"):
        split_at_crop(prompt, "<I>")


def _teacher_inputs(vlm):
    """Two prompts (different questions, a system message) with full images and views of different
    sizes, so suffixes differ in length across views and prompts (Qwen's dynamic resolution)."""
    rng = np.random.default_rng(0)

    def image(h, w):
        return Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))

    full = [image(112, 112), image(96, 80)]
    positive = [image(64, 64), image(96, 48)]
    negative = [image(128, 96), image(48, 48)]
    questions = ["What colour is the small triangle?", "Where?"]
    templates = PromptTemplates(system="Look closely.")
    prompts = [
        render_prompt(vlm.tokenizer, build_messages(templates.teacher, q, templates.system))
        for q in questions
    ]
    return prompts, full, {"positive": positive, "negative": negative}


@pytest.mark.parametrize("family", VLM_FAMILIES)
def test_prefix_and_suffix_tokenize_to_the_whole_prompt(tiny_vlm, family):
    vlm = load_vlm(tiny_vlm(family, "teacher"), device="cpu")
    prompts, full, views = _teacher_inputs(vlm)
    for i, prompt in enumerate(prompts):
        whole = encode_prompts(
            vlm.processor, [prompt], [[full[i], views["positive"][i]]], nested_images=vlm.nested_images
        )
        prefix, suffix = split_at_crop(prompt, vlm.processor.image_token)
        a = encode_prompts(vlm.processor, [prefix], [[full[i]]], nested_images=vlm.nested_images)
        b = encode_prompts(
            vlm.processor,
            [suffix],
            [[views["positive"][i]]],
            nested_images=vlm.nested_images,
            add_special_tokens=False,
        )
        assert torch.cat([a["input_ids"], b["input_ids"]], 1).tolist() == whole["input_ids"].tolist()


@pytest.mark.parametrize("family", VLM_FAMILIES)
@pytest.mark.parametrize("micro_batch_size", [12, 4])
def test_shared_prefix_replay_equals_full_forward_replays(tiny_vlm, family, micro_batch_size):
    """Both views at once (12: one forward per prompt, both views batched; 4: views split and mixed)."""
    vlm = load_vlm(tiny_vlm(family, "teacher"), device="cpu")
    prompts, full, views = _teacher_inputs(vlm)
    responses = torch.randint(60, 200, (len(ROWS), 6), generator=torch.Generator().manual_seed(0))
    responses[1, 3:] = vlm.tokenizer.pad_token_id  # a response that ended early, padded
    expected = {
        name: replay_logprobs(
            vlm.model,
            vlm.processor,
            [prompts[p] for p in ROWS],
            [[full[p], images[p]] for p in ROWS],
            responses,
            nested_images=vlm.nested_images,
        )
        for name, images in views.items()
    }
    teacher = encode_teacher_prompts(
        vlm.model, vlm.processor, prompts, full, views, nested_images=vlm.nested_images, device="cpu"
    )
    got = shared_prefix_logprobs(
        vlm.model,
        teacher,
        ROWS,
        responses,
        micro_batch_size=micro_batch_size,
        pad_token_id=vlm.tokenizer.pad_token_id,
    )
    assert got.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], atol=1e-5, rtol=0, msg=f"{family} {name}")
    assert not torch.allclose(got["positive"], got["negative"]), "the views must matter"


def test_one_view_alone_gives_the_same_log_probs(tiny_vlm):
    """With the gate off only the positive view is replayed: same numbers as with both."""
    vlm = load_vlm(tiny_vlm("qwen2_5_vl", "teacher"), device="cpu")
    prompts, full, views = _teacher_inputs(vlm)
    responses = torch.randint(60, 200, (len(ROWS), 4), generator=torch.Generator().manual_seed(1))
    kwargs = dict(nested_images=False, device="cpu")
    both = encode_teacher_prompts(vlm.model, vlm.processor, prompts, full, views, **kwargs)
    alone = encode_teacher_prompts(
        vlm.model, vlm.processor, prompts, full, {"positive": views["positive"]}, **kwargs
    )
    pad = vlm.tokenizer.pad_token_id
    got_both = shared_prefix_logprobs(vlm.model, both, ROWS, responses, pad_token_id=pad)
    got_alone = shared_prefix_logprobs(vlm.model, alone, ROWS, responses, pad_token_id=pad)
    assert list(got_alone) == ["positive"]
    torch.testing.assert_close(got_alone["positive"], got_both["positive"], atol=1e-5, rtol=0)


def test_rows_of_a_prompt_may_come_in_any_order(tiny_vlm):
    vlm = load_vlm(tiny_vlm("qwen3_5", "teacher"), device="cpu")
    prompts, full, views = _teacher_inputs(vlm)
    responses = torch.randint(60, 200, (4, 4), generator=torch.Generator().manual_seed(2))
    teacher = encode_teacher_prompts(
        vlm.model, vlm.processor, prompts, full, views, nested_images=False, device="cpu"
    )
    pad = vlm.tokenizer.pad_token_id
    ordered = shared_prefix_logprobs(vlm.model, teacher, [0, 0, 1, 1], responses, pad_token_id=pad)
    perm = [2, 0, 3, 1]
    shuffled = shared_prefix_logprobs(vlm.model, teacher, [1, 0, 1, 0], responses[perm], pad_token_id=pad)
    for name in ordered:
        torch.testing.assert_close(shuffled[name], ordered[name][perm], atol=1e-5, rtol=0)
