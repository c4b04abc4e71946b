import pytest
import torch

from vzero_core.vlm.models import load_vlm
from vzero_core.vlm.prompts import PromptTemplates, build_messages, render_prompt
from vzero_train.rollout import HFRollout, SamplingConfig, expand_groups, response_mask
from vzero_train.rollout_backends import make_rollout_backend


@pytest.mark.parametrize(
    "ids, eos, expected",
    [
        ([[5, 6, 2, 0]], [2], [[1, 1, 1, 0]]),  # through the first eos, inclusive
        ([[2, 6, 2, 0]], [2], [[1, 0, 0, 0]]),
        ([[5, 6, 7, 8]], [2], [[1, 1, 1, 1]]),  # truncated at max_new_tokens: all real
        ([[5, 3, 2, 9]], [2, 3], [[1, 1, 0, 0]]),  # several eos ids
    ],
)
def test_response_mask(ids, eos, expected):
    assert response_mask(torch.tensor(ids), eos).int().tolist() == expected


def test_expand_groups():
    assert expand_groups(["a", "b"], 3) == ["a", "a", "a", "b", "b", "b"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"group_size": 0}, "group_size"),
        ({"temperature": 0.0}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_k": 0}, "top_k"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
    ],
)
def test_sampling_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SamplingConfig(**kwargs)


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown rollout backend 'sglang'"):
        make_rollout_backend("sglang", None, SamplingConfig(), nested_images=False)


def test_generation_config_has_exactly_the_sampling_settings(tiny_vlm):
    vlm = load_vlm(tiny_vlm("qwen2_5_vl"), device="cpu")
    sampling = SamplingConfig(temperature=0.7, top_p=0.9, top_k=None, max_new_tokens=5)
    config = HFRollout(vlm.processor, sampling, nested_images=False).generation_config(vlm.model)
    assert config.do_sample and config.temperature == 0.7 and config.top_p == 0.9
    assert config.top_k == 0 and config.max_new_tokens == 5
    assert config.eos_token_id == [vlm.tokenizer.eos_token_id]
    image_pad = vlm.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert image_pad in config.suppress_tokens, "a sampled image token would break every replay"


def test_checkpoint_generation_defaults_do_not_leak_into_sampling(tiny_vlm, records):
    vlm = load_vlm(tiny_vlm("qwen2_5_vl"), device="cpu")
    prompts = [render_prompt(vlm.tokenizer, build_messages(PromptTemplates().student, records[0].question))]
    backend = HFRollout(vlm.processor, SamplingConfig(group_size=4, max_new_tokens=6), nested_images=False)
    clean = backend.generate(vlm.model, prompts, [[records[0].image]], [0], seed=5)
    saved = vlm.model.generation_config
    saved.top_k, saved.repetition_penalty, saved.suppress_tokens = 1, 1.5, list(range(100))
    polluted = backend.generate(vlm.model, prompts, [[records[0].image]], [0], seed=5)
    assert torch.equal(clean.response_ids, polluted.response_ids)
    assert vlm.model.generation_config is saved and saved.top_k == 1, "restored afterwards"


def test_rollout_groups_and_seeding(tiny_vlm, records):
    vlm = load_vlm(tiny_vlm("qwen2_vl"), device="cpu")
    prompts = [
        render_prompt(vlm.tokenizer, build_messages(PromptTemplates().student, r.question))
        for r in records[:2]
    ]
    images = [[r.image] for r in records[:2]]
    backend = HFRollout(vlm.processor, SamplingConfig(group_size=3, max_new_tokens=6), nested_images=False)
    a = backend.generate(vlm.model, prompts, images, [10, 11], seed=1)
    b = backend.generate(vlm.model, prompts, images, [10, 11], seed=1)
    c = backend.generate(vlm.model, prompts, images, [10, 11], seed=2)
    assert a.prompt_index == [0, 0, 0, 1, 1, 1] and a.group_ids == [10, 10, 10, 11, 11, 11]
    assert a.response_ids.shape[0] == 6 and a.response_ids.shape[1] <= 6
    assert torch.equal(a.response_ids, b.response_ids), "same seed, same samples"
    assert not torch.equal(a.response_ids, c.response_ids)
    assert not torch.equal(a.response_ids[0], a.response_ids[1]), "G samples of one prompt differ"
    batched = HFRollout(vlm.processor, backend.sampling, nested_images=False, batch_size=2)
    assert batched.generate(vlm.model, prompts, images, [10, 11], seed=1).response_ids.shape[0] == 6


def test_vllm_backend_explains_a_missing_install():
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    with pytest.raises(ImportError, match="rollout.backend 'vllm' needs vLLM"):
        make_rollout_backend("vllm", None, SamplingConfig(), nested_images=False, model_path="x")
