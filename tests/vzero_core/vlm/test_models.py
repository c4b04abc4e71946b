import pytest

from vzero_core.tiny_models import build_bpe_tokenizer
from vzero_core.vlm.models import ModelCompatibilityError, check_same_tokenizer, load_vlm, model_family


@pytest.mark.parametrize(
    "model_type, family",
    [
        ("qwen2_5_vl", "qwen2_5_vl"),
        ("qwen3_vl_moe", "qwen3_vl"),
        ("qwen3_5", "qwen3_5"),
        ("smolvlm", "smolvlm"),
    ],
)
def test_model_family(model_type, family):
    assert model_family(model_type) == family


def test_unsupported_model_type_lists_supported_ones():
    with pytest.raises(ValueError, match="unsupported model type 'llava'.*qwen2_5_vl"):
        model_family("llava")


def test_same_tokenizer_passes():
    check_same_tokenizer(build_bpe_tokenizer(), build_bpe_tokenizer())


def test_different_vocabularies_fail_clearly():
    with pytest.raises(
        ModelCompatibilityError,
        match=r"tokenizers differ: vocab sizes \d+ vs 400, \d+ tokens map to different ids",
    ):
        check_same_tokenizer(build_bpe_tokenizer(), build_bpe_tokenizer(vocab_size=400))


def test_different_chat_templates_fail_clearly():
    other = build_bpe_tokenizer(chat_template="{{ messages }}")
    with pytest.raises(ModelCompatibilityError, match="different chat templates"):
        check_same_tokenizer(build_bpe_tokenizer(), other)


def test_load_vlm_frozen_and_trainable(tmp_path):
    from vzero_core.tiny_models import save_tiny_vlm

    path = save_tiny_vlm("qwen2_5_vl", tmp_path / "m")
    frozen = load_vlm(path, device="cpu")
    assert frozen.family == "qwen2_5_vl" and not frozen.nested_images
    assert not frozen.model.training and not any(p.requires_grad for p in frozen.model.parameters())
    trainable = load_vlm(path, device="cpu", trainable=True)
    assert trainable.model.training and all(p.requires_grad for p in trainable.model.parameters())
    assert trainable.tokenizer.padding_side == "left"
