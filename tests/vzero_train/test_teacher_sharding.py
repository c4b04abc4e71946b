"""``teacher.shard``: a teacher divided over processes scores exactly as the whole teacher does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.vzero_train.test_distributed import _launch
from vzero_train.config import TrainConfig

FAMILIES = ("qwen3_5", "qwen3_vl")  # hybrid linear attention; deepstack vision features


@pytest.mark.e2e
def test_sharded_teacher_replays_equal_the_whole_teacher(tmp_path, tiny_vlm):
    """Two gloo processes each hold half of every teacher block and replay their own prompts (of
    different image sizes); their log-probs, on the shared-prefix path and the per-row path, equal
    one process replaying all prompts with the whole teacher."""
    script = Path(__file__).with_name("two_process_teacher.py")
    args = [str(tmp_path)] + [
        path for family in FAMILIES for path in (tiny_vlm(family), tiny_vlm(family, "teacher"))
    ]
    _launch(script, args, 1, 0)
    _launch(script, args, 2, 29551)
    for n, family in enumerate(FAMILIES):
        whole = torch.load(tmp_path / f"replay_{n}_1_0.pt")
        parts = [torch.load(tmp_path / f"replay_{n}_2_{r}.pt") for r in range(2)]
        assert whole["local_numel"] == whole["total_numel"], "one process: nothing divided"
        blocks = whole["block_numel"]
        outside = whole["total_numel"] - blocks
        held = [part["local_numel"] - outside for part in parts]  # each process's share of the blocks
        assert sum(held) == blocks, f"{family}: the blocks are divided, every element held exactly once"
        assert all(0.3 * blocks < h < 0.7 * blocks for h in held), (family, held)
        mask = whole["mask"]
        for path in ("shared", "per_row"):
            for view in ("positive", "negative"):
                got = torch.cat([p[path][view] for p in parts])
                expected = whole[path][view]
                assert expected[mask].abs().sum() > 0
                torch.testing.assert_close(
                    got[mask], expected[mask], rtol=1e-5, atol=1e-5, msg=f"{family} {path} {view}"
                )


@pytest.mark.parametrize(
    "teacher, message",
    [
        ({"kind": "ema", "shard": True}, "teacher.shard: an EMA teacher"),
        ({"kind": "external", "path": "x", "shard": True}, None),
        ({"kind": "frozen_self", "shard": True}, None),
    ],
)
def test_only_frozen_teachers_shard(teacher, message):
    if message is None:
        assert TrainConfig(student="s", teacher=teacher).teacher.shard
    else:
        with pytest.raises(ValueError, match=message):
            TrainConfig(student="s", teacher=teacher)


def test_sharding_needs_a_distributed_run(tiny_vlm):
    from vzero_core.vlm.models import load_vlm
    from vzero_train.teacher_sharding import shard_frozen_model

    model = load_vlm(tiny_vlm("qwen2_5_vl", "teacher"), device="cpu", dtype="float32").model
    with pytest.raises(RuntimeError, match="needs a distributed run"):
        shard_frozen_model(model, "cpu")
