"""Encode once: rows built from shared preprocessing and vision features score exactly as rows encoded
one by one, in every supported family; the rollout samples the same tokens from them."""

import numpy as np
import pytest
import torch
from PIL import Image

from vzero_core.tiny_models import VLM_FAMILIES
from vzero_core.vlm.models import load_vlm
from vzero_core.vlm.prompts import PromptTemplates, build_messages, render_prompt
from vzero_core.vlm.replay import encoded_logprobs, replay_logprobs, response_logprobs
from vzero_core.vlm.vision_cache import (
    accepts_features,
    compute_features,
    encode_once,
    rows_with_fresh_features,
    select_features,
    vision_requires_grad,
)
from vzero_train.rollout import HFRollout, SamplingConfig

ROWS = [0, 0, 1, 2, 2, 2]  # prompt of each row: groups of different sizes, in order


def _inputs(vlm, n=3):
    """Prompts with one image each; images and questions of different sizes (left padding present)."""
    rng = np.random.default_rng(0)
    sizes = [(224, 224), (128, 96), (80, 160)][:n]
    images = [Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)) for h, w in sizes]
    questions = [
        "What colour?",
        "What is the shape of the small purple object near the bottom left?",
        "Where?",
    ]
    template = PromptTemplates().student
    prompts = [render_prompt(vlm.tokenizer, build_messages(template, q)) for q in questions[:n]]
    return prompts, images


def _responses(vlm, n, T=5, seed=0):
    """Response ids from ordinary text tokens (never an image placeholder)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(60, 200, (n, T), generator=g)


@pytest.mark.parametrize("family", VLM_FAMILIES)
def test_rows_from_shared_features_score_like_rows_encoded_one_by_one(tiny_vlm, family):
    vlm = load_vlm(tiny_vlm(family), device="cpu")
    assert accepts_features(vlm.model), f"{family}: forward takes mm_encoder_outputs in transformers 5"
    prompts, images = _inputs(vlm)
    responses = _responses(vlm, len(ROWS))
    expected = replay_logprobs(
        vlm.model,
        vlm.processor,
        [prompts[i] for i in ROWS],
        [[images[i]] for i in ROWS],
        responses,
        nested_images=vlm.nested_images,
        micro_batch_size=4,
    )
    encoded = encode_once(vlm.processor, prompts, images, nested_images=vlm.nested_images)
    assert encoded.features is None
    shared = compute_features(vlm.model, encoded)
    assert shared.features is not None and len(shared.features.pooler_output) == 3
    for micro in (4, 1):
        got = encoded_logprobs(vlm.model, shared, ROWS, responses, micro_batch_size=micro)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    # the pixels of a row (for a pass that trains the vision tower) are the processor's own
    with torch.no_grad():
        from_pixels = response_logprobs(vlm.model, shared.rows(ROWS, pixels=True), responses)
    torch.testing.assert_close(from_pixels, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("family", ["qwen2_5_vl", "smolvlm"])
def test_each_row_gets_its_own_prompts_features(tiny_vlm, family):
    """Swapping two prompts' features changes exactly the rows of those prompts."""
    vlm = load_vlm(tiny_vlm(family), device="cpu")
    prompts, images = _inputs(vlm, n=2)
    images[1] = images[1].resize(images[0].size)  # same token count, different pixels
    shared = compute_features(
        vlm.model, encode_once(vlm.processor, prompts, images, nested_images=vlm.nested_images)
    )
    responses = _responses(vlm, 2)
    with torch.no_grad():
        right = response_logprobs(vlm.model, shared.rows([0, 1]), responses)
        inputs = shared.rows([0, 1])
        inputs["mm_encoder_outputs"] = {
            "image": select_features([(shared.features, 0), (shared.features, 0)])
        }
        swapped = response_logprobs(vlm.model, inputs, responses)
    assert torch.equal(right[0], swapped[0])
    assert not torch.allclose(right[1], swapped[1])


def test_selected_features_share_tensors():
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    a, b = torch.ones(2, 3), torch.zeros(4, 3)
    features = BaseModelOutputWithPooling(pooler_output=(a, b))
    picked = select_features([(features, 1), (features, 0), (features, 1)])
    assert [id(t) for t in picked.pooler_output] == [id(b), id(a), id(b)]


def test_each_prompt_needs_exactly_one_image(tiny_vlm):
    vlm = load_vlm(tiny_vlm("qwen2_5_vl"), device="cpu")
    prompts, images = _inputs(vlm, n=2)
    with pytest.raises(ValueError, match="2 prompts but 1 images"):
        encode_once(vlm.processor, prompts, images[:1], nested_images=False)


@pytest.mark.parametrize(
    "family, frozen",
    [("qwen2_5_vl", "model.visual"), ("qwen3_vl", "model.visual"), ("idefics3", "model.vision_model")],
)
def test_vision_requires_grad_follows_the_vision_tower(tiny_vlm, family, frozen):
    vlm = load_vlm(tiny_vlm(family), device="cpu", trainable=True)
    assert vision_requires_grad(vlm.model)
    vlm.model.get_submodule(frozen).requires_grad_(False)
    if family == "idefics3":
        assert vision_requires_grad(vlm.model), "the connector is still trainable"
        vlm.model.get_submodule("model.connector").requires_grad_(False)
    assert not vision_requires_grad(vlm.model)
    assert any(p.requires_grad for p in vlm.model.parameters()), "the language model still trains"


def test_frozen_vision_tower_gets_the_same_gradients_from_shared_features(tiny_vlm):
    """With the vision tower frozen, the update may use the cached features: same loss gradients."""
    vlm = load_vlm(tiny_vlm("qwen2_5_vl"), device="cpu", trainable=True)
    vlm.model.model.visual.requires_grad_(False)
    prompts, images = _inputs(vlm, n=2)
    shared = compute_features(vlm.model, encode_once(vlm.processor, prompts, images, nested_images=False))
    responses = _responses(vlm, 3)
    grads = []
    for pixels in (True, False):
        vlm.model.zero_grad()
        response_logprobs(vlm.model, shared.rows([0, 1, 1], pixels=pixels), responses).sum().backward()
        grads.append({n: p.grad.clone() for n, p in vlm.model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], atol=1e-5, rtol=1e-4)


def test_trainable_vision_tower_gets_gradients_only_from_pixels(tiny_vlm):
    vlm = load_vlm(tiny_vlm("qwen2_5_vl"), device="cpu", trainable=True)
    prompts, images = _inputs(vlm, n=1)
    shared = compute_features(vlm.model, encode_once(vlm.processor, prompts, images, nested_images=False))
    responses = _responses(vlm, 2)
    visual = list(vlm.model.model.visual.parameters())
    for pixels, reaches in ((True, True), (False, False)):
        vlm.model.zero_grad(set_to_none=True)
        response_logprobs(vlm.model, shared.rows([0, 0], pixels=pixels), responses).sum().backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in visual) is reaches


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen3_vl", "idefics3"])
def test_fresh_features_once_per_image_give_the_gradients_of_every_row_encoding_its_image(tiny_vlm, family):
    """A trainable vision tower: features computed once per distinct image of a micro-batch, with
    gradient, and shared by its rows give the same gradients as every row running the tower."""
    vlm = load_vlm(tiny_vlm(family), device="cpu", trainable=True)
    prompts, images = _inputs(vlm, n=2)
    encoded = encode_once(vlm.processor, prompts, images, nested_images=vlm.nested_images)
    rows = [1, 0, 1, 1]
    responses = _responses(vlm, len(rows))
    grads = []
    for fresh in (False, True):
        vlm.model.zero_grad(set_to_none=True)
        inputs = (
            rows_with_fresh_features(vlm.model, encoded, rows) if fresh else encoded.rows(rows, pixels=True)
        )
        assert ("mm_encoder_outputs" in inputs) is fresh
        response_logprobs(vlm.model, inputs, responses).sum().backward()
        grads.append({n: p.grad.clone() for n, p in vlm.model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    tower = [n for n in grads[0] if "visual." in n or "vision_model." in n]
    assert tower and any(grads[1][n].abs().sum() > 0 for n in tower), "the tower must get gradient"
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("family", VLM_FAMILIES)
def test_rollout_from_shared_features_samples_the_same_tokens(tiny_vlm, family):
    vlm = load_vlm(tiny_vlm(family), device="cpu")
    prompts, images = _inputs(vlm, n=2)
    rollout = HFRollout(
        vlm.processor, SamplingConfig(group_size=2, max_new_tokens=5), nested_images=vlm.nested_images
    )
    plain = rollout.generate(
        vlm.model, prompts, [[im] for im in images], ["a", "b"], seed=3, return_logprobs=True
    )
    shared = compute_features(
        vlm.model, encode_once(vlm.processor, prompts, images, nested_images=vlm.nested_images)
    )
    reused = rollout.generate(
        vlm.model, prompts, [[im] for im in images], ["a", "b"], seed=3, return_logprobs=True, encoded=shared
    )
    assert torch.equal(reused.response_ids, plain.response_ids)
    torch.testing.assert_close(reused.logprobs, plain.logprobs, atol=1e-5, rtol=0)


def test_rollout_rejects_encoded_prompts_of_another_batch(tiny_vlm):
    vlm = load_vlm(tiny_vlm("qwen2_5_vl"), device="cpu")
    prompts, images = _inputs(vlm, n=2)
    encoded = encode_once(vlm.processor, prompts[:1], images[:1], nested_images=False)
    rollout = HFRollout(vlm.processor, SamplingConfig(group_size=2, max_new_tokens=2), nested_images=False)
    with pytest.raises(ValueError, match="1 encoded prompts for 2 prompts"):
        rollout.generate(vlm.model, prompts, [[im] for im in images], ["a", "b"], seed=0, encoded=encoded)
