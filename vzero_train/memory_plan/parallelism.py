"""How many processes a run has and what FSDP shards, from the accelerate config its recipe names.

A recipe's header says how to launch it (``vzero-train launch NAME --accelerate-config F``, or
``--num-processes N``). The config file is accelerate's own YAML
(``distributed_type``, ``num_processes``, ``fsdp_config``); its ``fsdp_config`` says what is
divided over the processes:

- FSDP1 ``FULL_SHARD`` / ``HYBRID_SHARD`` (within the node) and FSDP2 with
  ``fsdp_reshard_after_forward: true``: weights, gradients and optimizer state;
- FSDP1 ``SHARD_GRAD_OP`` and FSDP2 without resharding: gradients and optimizer state only;
- ``NO_SHARD``, DDP or one process: nothing.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from vzero_core.recipes import resolve_accelerate_config

# FSDP1 sharding strategies by name and by accelerate's legacy numbers
_STRATEGIES = {
    "1": "FULL_SHARD",
    "2": "SHARD_GRAD_OP",
    "3": "NO_SHARD",
    "4": "HYBRID_SHARD",
    "5": "HYBRID_SHARD_ZERO2",
}


@dataclass(frozen=True)
class Parallelism:
    """``processes`` in the run; ``shard_weights`` / ``shard_states``: whether the student's weights /
    its gradients and optimizer state are divided over them; ``fsdp_version`` 0 without FSDP."""

    processes: int
    shard_weights: bool
    shard_states: bool
    fsdp_version: int
    source: str

    def describe(self) -> str:
        count = f"{self.processes} process{'es' if self.processes != 1 else ''}"
        if not self.fsdp_version:
            kind = "" if self.processes == 1 else ", DDP (student replicated)"
        else:
            what = "weights, gradients, optimizer" if self.shard_weights else "gradients, optimizer"
            what = what if self.shard_states else "nothing"
            kind = f", FSDP{self.fsdp_version} (student {what} sharded)"
        return f"{count}{kind}; from {self.source}"


# the launch options a recipe header may carry: vzero-train launch's and accelerate launch's spelling
_HEADER_OPTIONS = {
    "--accelerate-config": "config_file",
    "--config_file": "config_file",
    "--num-processes": "num_processes",
    "--num_processes": "num_processes",
}
_LAUNCHERS = ("vzero-train launch", "accelerate launch")


def launch_options(recipe: Path) -> dict[str, str]:
    """``config_file`` and ``num_processes`` of the launch command in the recipe's header comment
    (``vzero-train launch NAME --accelerate-config F --num-processes N``, or accelerate's own
    ``accelerate launch --config_file F --num_processes N``); empty when it launches nothing."""
    for line in recipe.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        text = line.removeprefix("#").strip()
        launcher = next((name for name in _LAUNCHERS if name in text), None)
        if launcher is None:
            continue
        words = shlex.split(text[text.index(launcher) :])
        return {
            _HEADER_OPTIONS[word]: words[i + 1]
            for i, word in enumerate(words[:-1])
            if word in _HEADER_OPTIONS
        }
    return {}


def read_accelerate_config(path: Path, num_processes: int | None = None) -> Parallelism:
    """The parallelism an accelerate config file describes; ``num_processes`` overrides its count."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read accelerate config ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: an accelerate config is a YAML mapping")
    processes = num_processes if num_processes is not None else doc.get("num_processes", 1)
    if not isinstance(processes, int) or isinstance(processes, bool) or processes < 1:
        raise ValueError(f"{path}: field num_processes must be a positive integer, got {processes!r}")
    kind = str(doc.get("distributed_type", "NO")).upper()
    if kind != "FSDP":
        return Parallelism(processes, False, False, 0, str(path))
    fsdp = doc.get("fsdp_config") or {}
    if not isinstance(fsdp, dict):
        raise ValueError(f"{path}: field fsdp_config must be a mapping")
    version = int(fsdp.get("fsdp_version", 1))
    if version == 2:
        reshard = bool(fsdp.get("fsdp_reshard_after_forward", True))
        return Parallelism(processes, reshard, True, 2, str(path))
    strategy = str(fsdp.get("fsdp_sharding_strategy", "FULL_SHARD")).upper()
    strategy = _STRATEGIES.get(strategy, strategy)
    if strategy not in _STRATEGIES.values():
        raise ValueError(
            f"{path}: field fsdp_config.fsdp_sharding_strategy {strategy!r} is not one of {', '.join(sorted(set(_STRATEGIES.values())))}"
        )
    sharded = strategy != "NO_SHARD"
    return Parallelism(processes, strategy in ("FULL_SHARD", "HYBRID_SHARD"), sharded, 1, str(path))


def plan_parallelism(
    recipe: Path, *, config_file: str | None = None, num_processes: int | None = None
) -> Parallelism:
    """The run's parallelism: ``config_file`` (else the one the recipe header names), with
    ``num_processes`` (else the header's ``--num_processes``) overriding its process count."""
    header = launch_options(recipe)
    name = config_file or header.get("config_file")
    count = num_processes or (
        int(header["num_processes"]) if re.fullmatch(r"\d+", header.get("num_processes", "")) else None
    )
    if name:
        return read_accelerate_config(resolve_accelerate_config(name, recipe), count)
    source = (
        "--num-processes"
        if num_processes
        else ("the recipe header" if count else "default (no launcher named)")
    )
    return Parallelism(count or 1, False, False, 0, source)
