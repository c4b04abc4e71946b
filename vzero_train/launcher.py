"""``vzero-train launch``: check a training run in one process, then start it under ``accelerate launch``.

Started by hand, ``accelerate launch ... train RECIPE`` spawns every process before vzero can look
at anything, so a missing store or model fails once per process and ends in the launcher's own
traceback. The launcher instead checks, in its own process, everything that can be checked before
a model loads: the recipe, the accelerate config (a file, or the name of one shipped with vzero),
the store, the models, and that this machine has a GPU for each of its processes. Only then does it
run ``accelerate launch`` with the same interpreter; an error a training process raises comes back
through :data:`vzero_core.cli_support.ERROR_FILE_ENV` and is printed once, by the launcher.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vzero_core.cli_support import ERROR_FILE_ENV, CommandError, read_error_file
from vzero_core.recipes import resolve_accelerate_config


class LaunchFailed(CommandError):
    """The training processes stopped with an error they did not report as one: exit code 1."""

    exit_code = 1


@dataclass(frozen=True)
class LaunchPlan:
    """How the run is launched: ``config_file`` (accelerate's YAML, or None for its defaults),
    ``processes`` in all, over ``machines``; ``cpu`` runs without GPUs."""

    config_file: Path | None
    processes: int
    machines: int = 1
    cpu: bool = False

    @property
    def gpus_per_machine(self) -> int:
        """GPUs this machine needs: one per process it runs (none on the CPU)."""
        return 0 if self.cpu else -(-self.processes // self.machines)


def _accelerate_settings(path: Path) -> dict[str, Any]:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CommandError(f"{path}: cannot read accelerate config ({exc})") from None
    if not isinstance(doc, dict):
        raise CommandError(f"{path}: an accelerate config is a YAML mapping")
    return doc


def plan_launch(
    recipe: Path, *, config_file: str | None = None, num_processes: int | None = None, cpu: bool = False
) -> LaunchPlan:
    """The launch the options ask for; options not given come from the recipe header's
    ``vzero-train launch`` options, then from the accelerate config file."""
    from vzero_train.memory_plan.parallelism import launch_options

    header = launch_options(recipe)
    name = config_file or header.get("config_file")
    if num_processes is None and header.get("num_processes", "").isdigit():
        num_processes = int(header["num_processes"])
    if num_processes is not None and num_processes < 1:
        raise CommandError(f"--num-processes must be at least 1, got {num_processes}")
    if name is None:
        return LaunchPlan(None, num_processes or 1, 1, cpu)
    try:
        path = resolve_accelerate_config(name, recipe)
    except FileNotFoundError as exc:
        raise CommandError(f"{recipe.name}: {exc}") from None
    settings = _accelerate_settings(path)
    processes = num_processes or settings.get("num_processes", 1)
    machines = settings.get("num_machines", 1)
    for field, value in (("num_processes", processes), ("num_machines", machines)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise CommandError(f"{path}: field {field} must be a positive integer, got {value!r}")
    return LaunchPlan(path, processes, machines, cpu or bool(settings.get("use_cpu", False)))


def visible_gpus() -> int:
    """CUDA devices this process can see (``CUDA_VISIBLE_DEVICES`` respected)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def check_gpus(plan: LaunchPlan, where: str, found: int | None = None) -> None:
    """A :class:`CommandError` when the machine has fewer GPUs than the launch starts processes."""
    need = plan.gpus_per_machine
    found = visible_gpus() if found is None and need else found or 0
    if need and found < need:
        what = f"{plan.config_file.name}: " if plan.config_file is not None else ""
        hint = (
            f"pass --num-processes {found} to run on those"
            if found
            else "a trial on the CPU: --cpu --num-processes 1"
        )
        raise CommandError(
            f"{where}: the launch starts {need} processes here ({what}one per GPU) and this machine "
            f"has {found} GPU{'s' if found != 1 else ''} (torch.cuda.device_count()); {hint}"
        )


def accelerate_command(plan: LaunchPlan, train_args: Sequence[str], *, mixed_precision: str) -> list[str]:
    """``python -m accelerate.commands.launch ... -m vzero_train.cli train ARGS``, with this
    interpreter (so the processes run the same installation as the launcher)."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--quiet"]
    if plan.config_file is not None:
        cmd += ["--config_file", str(plan.config_file), "--num_processes", str(plan.processes)]
        if plan.cpu:
            cmd.append("--cpu")
    else:
        # every value accelerate would otherwise default with a warning
        cmd += ["--num_processes", str(plan.processes), "--num_machines", "1", "--dynamo_backend", "no"]
        cmd += ["--mixed_precision", mixed_precision]
        if plan.cpu:
            cmd.append("--cpu")
        elif plan.processes > 1:
            cmd.append("--multi_gpu")
    return [*cmd, "-m", "vzero_train.cli", "train", *train_args]


def shown(cmd: Sequence[str]) -> str:
    """The command as a user would type it (``accelerate launch`` for the interpreter and module)."""
    words = list(cmd)
    if words[1:3] == ["-m", "accelerate.commands.launch"]:
        words = ["accelerate", "launch", *words[3:]]
    return shlex.join(words)


def run_launch(cmd: Sequence[str]) -> int:
    """Run ``cmd`` (an accelerate launch) to the end; a training process's own error comes back
    as a :class:`CommandError` with its exit code, printed once; any other failure is
    :class:`LaunchFailed`."""
    fd, error_file = tempfile.mkstemp(prefix="vzero-launch-", suffix=".errors")
    os.close(fd)
    try:
        proc = subprocess.Popen(list(cmd), env={**os.environ, ERROR_FILE_ENV: error_file})
        try:
            code = proc.wait()
        except KeyboardInterrupt:  # the processes got the same Ctrl-C: let accelerate stop them
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
        errors = read_error_file(error_file)
    finally:
        Path(error_file).unlink(missing_ok=True)
    if code == 0:
        return 0
    if errors:
        messages = list(dict.fromkeys(message for _, message in errors))
        error = CommandError("; ".join(messages))
        error.exit_code = max(child_code for child_code, _ in errors)
        raise error
    raise LaunchFailed(f"the training processes stopped (accelerate launch exited with {code}); see above")
