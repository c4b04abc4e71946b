"""A frozen teacher divided over the processes instead of held whole by each (``teacher.shard``).

A 27B teacher is 55 GB in bf16: replicated next to a 4B student's training state it does not fit an
80 GB GPU. Here each repeated block (decoder layer, vision block) is put under PyTorch's FSDP2
``fully_shard`` over all processes: a process keeps 1/N of every block and, when the block runs,
gathers it whole, computes, and frees the gathered copy (``reshard_after_forward``). The rest
(embeddings, output head, norms, patch embedding, merger) stays whole on every process, so the
replay code, which calls the model's submodules directly (vision features, rotary positions, the
branched prefix cache), runs unchanged: every sharded unit gathers itself in its own forward.

The teacher is loaded on the CPU, its whole parts moved to the device, and each block sharded from
there, so no process ever holds the whole teacher on its GPU. Each block's forward is a collective:
every process must run the teacher the same number of times, which the trainer does (each process
has the same number of prompts and rows per step).
"""

from __future__ import annotations

import torch

# ModuleLists whose members are the repeated blocks (same names as the memory plan counts)
BLOCK_LISTS = ("layers", "blocks")


def block_lists(model: torch.nn.Module) -> dict[str, torch.nn.ModuleList]:
    """``{qualified name: ModuleList}`` of the model's repeated blocks."""
    return {
        name: module
        for name, module in model.named_modules()
        if name.split(".")[-1] in BLOCK_LISTS and isinstance(module, torch.nn.ModuleList)
    }


def _move_whole_parts(model: torch.nn.Module, device: torch.device, inside_blocks: tuple[str, ...]) -> None:
    """Move every parameter and buffer outside the blocks to ``device`` (the blocks stay where they are)."""
    for name, module in model.named_modules():
        if any(name == b or name.startswith(b + ".") for b in inside_blocks):
            continue
        for param in list(module._parameters.values()):
            if param is not None:
                param.data = param.data.to(device)
        for key, buffer in list(module._buffers.items()):
            if buffer is not None:
                module._buffers[key] = buffer.to(device)


def shard_frozen_model(model: torch.nn.Module, device: torch.device | str) -> int:
    """Shard ``model``'s blocks over the default process group (FSDP2), the rest whole on ``device``.

    Returns the number of sharded blocks. The model must be frozen (no gradients) and the process
    group initialized (accelerate does both before the teacher is built)."""
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("teacher.shard needs a distributed run (launch with accelerate launch)")
    if any(p.requires_grad for p in model.parameters()):
        raise ValueError("only a frozen teacher (no parameter requiring gradients) can be sharded")
    device = torch.device(device)
    lists = block_lists(model)
    if not lists:
        raise ValueError(f"{type(model).__name__}: no repeated blocks (layers/blocks lists) to shard")
    _move_whole_parts(model, device, tuple(lists))
    mesh = init_device_mesh(device.type, (dist.get_world_size(),))
    count = 0
    for blocks in lists.values():
        for block in blocks:
            fully_shard(block, mesh=mesh, reshard_after_forward=True)
            count += 1
    return count
