import numpy as np
import pytest
import torch
from PIL import Image

from vzero_core.tiny_models import VLM_FAMILIES
from vzero_core.vlm.models import load_vlm
from vzero_core.vlm.prompts import PromptTemplates, build_messages, encode_prompts, render_prompt
from vzero_core.vlm.replay import append_response, gather_token_logprobs, replay_logprobs
from vzero_train.rollout import HFRollout, SamplingConfig


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 1000])
def test_chunked_gather_equals_full_log_softmax(chunk_size):
    torch.manual_seed(0)
    logits = torch.randn(2, 7, 11, requires_grad=True)
    tokens = torch.randint(0, 11, (2, 7))
    expected = torch.log_softmax(logits, -1).gather(-1, tokens[..., None])[..., 0]
    got = gather_token_logprobs(logits, tokens, chunk_size=chunk_size)
    torch.testing.assert_close(got, expected)
    (g_expected,) = torch.autograd.grad(expected.sum(), logits)
    (g_got,) = torch.autograd.grad(got.sum(), logits)
    torch.testing.assert_close(g_got, g_expected)


def test_chunked_gather_gradients_in_bf16_match_float32():
    torch.manual_seed(1)
    base = torch.randn(2, 5, 13)
    tokens = torch.randint(0, 13, (2, 5))
    low = base.to(torch.bfloat16).requires_grad_()
    (g_low,) = torch.autograd.grad(gather_token_logprobs(low, tokens, chunk_size=2).sum(), low)
    ref = base.to(torch.bfloat16).float().requires_grad_()
    (g_ref,) = torch.autograd.grad(gather_token_logprobs(ref, tokens, chunk_size=2).sum(), ref)
    torch.testing.assert_close(g_low.float(), g_ref, atol=1e-2, rtol=1e-2)


def test_chunked_gather_works_in_low_precision_inputs():
    logits = torch.randn(1, 4, 9).to(torch.bfloat16)
    tokens = torch.tensor([[1, 2, 3, 4]])
    got = gather_token_logprobs(logits, tokens, chunk_size=2)
    assert got.dtype == torch.float32
    expected = torch.log_softmax(logits.float(), -1).gather(-1, tokens[..., None])[..., 0]
    torch.testing.assert_close(got, expected)


def test_append_response_extends_ids_mask_and_token_types():
    prompt = {
        "input_ids": torch.tensor([[0, 5, 6], [7, 8, 9]]),
        "attention_mask": torch.tensor([[0, 1, 1], [1, 1, 1]]),
        "mm_token_type_ids": torch.tensor([[0, 1, 0], [1, 1, 0]]),
        "pixel_values": torch.ones(3, 4),
    }
    out = append_response(prompt, torch.tensor([[1, 2], [3, 4]]))
    assert out["input_ids"].tolist() == [[0, 5, 6, 1, 2], [7, 8, 9, 3, 4]]
    assert out["attention_mask"].tolist() == [[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]]
    assert out["mm_token_type_ids"].tolist() == [[0, 1, 0, 0, 0], [1, 1, 0, 0, 0]]
    assert out["pixel_values"] is prompt["pixel_values"]


def _prompts(vlm):
    """Two prompts of different lengths (different questions and image sizes): left padding present."""
    rng = np.random.default_rng(0)
    images = [
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)) for h, w in [(224, 224), (128, 96)]
    ]
    questions = ["What colour?", "What is the shape of the small purple object near the bottom left?"]
    template = PromptTemplates().student
    prompts = [render_prompt(vlm.tokenizer, build_messages(template, q)) for q in questions]
    return prompts, [[im] for im in images]


@pytest.mark.parametrize("family", VLM_FAMILIES)
def test_replaying_own_samples_reproduces_generate_logprobs(tiny_vlm, family):
    vlm = load_vlm(tiny_vlm(family), device="cpu")
    prompts, images = _prompts(vlm)
    rollout = HFRollout(
        vlm.processor, SamplingConfig(group_size=2, max_new_tokens=6), nested_images=vlm.nested_images
    )
    out = rollout.generate(vlm.model, prompts, images, ["a", "b"], seed=0, return_logprobs=True)
    enc = encode_prompts(vlm.processor, prompts, images, nested_images=vlm.nested_images)
    assert (enc["attention_mask"] == 0).any(), "the test needs left padding in the batch"
    for micro_batch_size in (4, 1):  # padded together, and each alone
        replayed = replay_logprobs(
            vlm.model,
            vlm.processor,
            [prompts[i] for i in out.prompt_index],
            [images[i] for i in out.prompt_index],
            out.response_ids,
            nested_images=vlm.nested_images,
            micro_batch_size=micro_batch_size,
            chunk_size=4,
        )
        m = out.response_mask
        assert (replayed[m] - out.logprobs[m]).abs().max().item() < 1e-4
        assert (replayed[~m] == 0).all()


def test_replay_depends_on_the_crop_image(tiny_vlm):
    vlm = load_vlm(tiny_vlm("qwen2_5_vl"), device="cpu")
    rng = np.random.default_rng(1)
    full, crop_a, crop_b = (
        Image.fromarray(rng.integers(0, 255, (112, 112, 3), dtype=np.uint8)) for _ in range(3)
    )
    prompt = render_prompt(vlm.tokenizer, build_messages(PromptTemplates().teacher, "What colour?"))
    response = torch.tensor([[10, 20, 30, 40]])
    lp_a, lp_b = (
        replay_logprobs(vlm.model, vlm.processor, [prompt], [[full, c]], response, nested_images=False)
        for c in (crop_a, crop_b)
    )
    assert not torch.allclose(lp_a, lp_b)
