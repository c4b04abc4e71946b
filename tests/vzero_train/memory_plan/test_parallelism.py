"""Processes and sharding, read from accelerate config files and recipe headers."""

from __future__ import annotations

import pytest
import yaml

from vzero_core.recipes import resolve_recipe, shipped_accelerate_configs
from vzero_train.memory_plan.parallelism import plan_parallelism, read_accelerate_config


@pytest.mark.parametrize(
    "doc, expected",
    [  # (processes, shard weights, shard gradients + optimizer, FSDP version)
        ({"distributed_type": "MULTI_GPU", "num_processes": 4}, (4, False, False, 0)),
        ({"distributed_type": "NO"}, (1, False, False, 0)),
        (
            {
                "distributed_type": "FSDP",
                "num_processes": 8,
                "fsdp_config": {"fsdp_sharding_strategy": "FULL_SHARD"},
            },
            (8, True, True, 1),
        ),
        (
            {"distributed_type": "FSDP", "num_processes": 8, "fsdp_config": {"fsdp_sharding_strategy": 1}},
            (8, True, True, 1),
        ),
        (
            {
                "distributed_type": "FSDP",
                "num_processes": 8,
                "fsdp_config": {"fsdp_sharding_strategy": "SHARD_GRAD_OP"},
            },
            (8, False, True, 1),
        ),
        (
            {
                "distributed_type": "FSDP",
                "num_processes": 8,
                "fsdp_config": {"fsdp_sharding_strategy": "NO_SHARD"},
            },
            (8, False, False, 1),
        ),
        (
            {"distributed_type": "FSDP", "num_processes": 2, "fsdp_config": {"fsdp_version": 2}},
            (2, True, True, 2),
        ),
        (
            {
                "distributed_type": "FSDP",
                "num_processes": 2,
                "fsdp_config": {"fsdp_version": 2, "fsdp_reshard_after_forward": False},
            },
            (2, False, True, 2),
        ),
    ],
)
def test_what_each_config_shards(tmp_path, doc, expected):
    path = tmp_path / "acc.yaml"
    path.write_text(yaml.safe_dump(doc))
    p = read_accelerate_config(path)
    assert (p.processes, p.shard_weights, p.shard_states, p.fsdp_version) == expected


def test_the_shipped_fsdp_config_is_accelerates_own_format():
    from accelerate.commands.config.config_args import load_config_from_file

    path = shipped_accelerate_configs()["fsdp_8gpu"]
    config = load_config_from_file(str(path))
    assert str(config.distributed_type) == "DistributedType.FSDP" and config.num_processes == 8
    p = read_accelerate_config(path)
    assert (p.processes, p.shard_weights, p.shard_states, p.fsdp_version) == (8, True, True, 1)


@pytest.mark.parametrize(
    "recipe, expected",
    [
        ("qwen35_4b_from_27b", (8, True, 1, "fsdp_8gpu.yaml")),  # --config_file in the header
        ("qwen3vl_2b_from_8b", (8, False, 0, "the recipe header")),  # --num_processes 8, DDP
        ("demo", (1, False, 0, "default")),  # no accelerate launch
    ],
)
def test_the_recipe_header_names_the_launch(recipe, expected):
    p = plan_parallelism(resolve_recipe(recipe))
    processes, sharded, version, source = expected
    assert (p.processes, p.shard_weights, p.fsdp_version) == (processes, sharded, version)
    assert source in p.source


def test_options_override_the_header(tmp_path):
    p = plan_parallelism(resolve_recipe("qwen35_4b_from_27b"), num_processes=16)
    assert p.processes == 16 and p.fsdp_version == 1
    path = tmp_path / "ddp.yaml"
    path.write_text("distributed_type: MULTI_GPU\nnum_processes: 2\n")
    assert (
        plan_parallelism(resolve_recipe("qwen35_4b_from_27b"), config_file=str(path)).shard_weights is False
    )


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "distributed_type: FSDP\nfsdp_config: {fsdp_sharding_strategy: HALF}\n",
            "fsdp_config.fsdp_sharding_strategy 'HALF'",
        ),
        ("distributed_type: FSDP\nnum_processes: 0\n", "field num_processes"),
        ("- a list\n", "a YAML mapping"),
    ],
)
def test_bad_configs_name_the_file_and_field(tmp_path, text, message):
    path = tmp_path / "acc.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        read_accelerate_config(path)
    assert str(path) in str(info.value)


def test_a_missing_config_file_lists_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match="no such accelerate config file.*; shipped: fsdp_8gpu"):
        plan_parallelism(resolve_recipe("demo"), config_file="nope.yaml")
