"""Model shapes and parameter counts from configs alone, checked against real built models."""

from __future__ import annotations

import json
import re

import pytest

from vzero_train.memory_plan.model_shapes import ModelConfigError, load_model_shape

BLOCK = re.compile(r"\.(layers|blocks)\.\d+\.")


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen3_vl", "qwen3_5", "idefics3"])
def test_counts_equal_the_loaded_model(tiny_vlm, family):
    """Counted on the meta device from config.json = counted on the model loaded with its weights;
    the block share = the parameters whose names sit in a numbered layer or block."""
    from vzero_core.vlm.models import load_vlm

    folder = tiny_vlm(family, "teacher")
    shape = load_model_shape(folder)
    model = load_vlm(folder, device="cpu", dtype="float32").model
    params = dict(model.named_parameters())  # tied weights appear once
    assert shape.params == sum(p.numel() for p in params.values())
    assert shape.block_params == sum(p.numel() for n, p in params.items() if BLOCK.search(n))
    assert 0 < shape.largest_block_params < shape.block_params
    assert shape.origin == "local folder"


def test_hybrid_attention_layers_are_told_apart(tiny_vlm):
    folder = tiny_vlm("qwen3_5")
    config = json.loads((__import__("pathlib").Path(folder) / "config.json").read_text())
    types = config["text_config"]["layer_types"]
    text = load_model_shape(folder).text
    assert text.full_attention_layers == types.count("full_attention")
    assert text.linear_layers == types.count("linear_attention") > 0
    assert text.linear_value_heads == config["text_config"]["linear_num_value_heads"]


@pytest.mark.parametrize(
    "hub_id, params, tied",
    [
        ("Qwen/Qwen3-VL-8B-Instruct", 8_767_123_696, False),  # 8.77B, as published
        ("Qwen/Qwen3-VL-2B-Instruct", 2_127_532_032, True),
        ("Qwen/Qwen3.5-4B", 4_539_265_536, True),
        ("Qwen/Qwen3.5-27B", 27_356_728_560, False),
    ],
)
def test_shipped_configs_of_the_paper_models(hub_id, params, tied):
    shape = load_model_shape(hub_id)
    assert shape.origin == "shipped config"
    assert shape.params == params
    text = shape.text
    embeddings = text.vocab * text.hidden
    # outside the blocks: the embedding, an untied output head, and small parts (norms, the vision
    # tower's patch embedding and mergers)
    whole = shape.params - shape.block_params
    assert embeddings * (1 if tied else 2) <= whole < embeddings * (1 if tied else 2) + 0.25e9


@pytest.mark.parametrize(
    "name, message",
    [
        ("tiny:qwen2_5_vl", "a tiny model is built when training starts"),
        ("someorg/unknown-model", "no config ships for this hub id"),
        ("./no/such/folder", "no such folder: ./no/such/folder"),
    ],
)
def test_models_without_a_config_are_named(name, message):
    with pytest.raises(ModelConfigError, match=re.escape(message)):
        load_model_shape(name)


def test_a_config_missing_a_field_names_the_file_and_the_field(tmp_path, tiny_vlm):
    import shutil

    folder = tmp_path / "broken"
    shutil.copytree(tiny_vlm("qwen2_5_vl"), folder)
    config = json.loads((folder / "config.json").read_text())
    config["text_config"]["num_hidden_layers"] = "many"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelConfigError, match=str(folder / "config.json")):
        load_model_shape(str(folder))
