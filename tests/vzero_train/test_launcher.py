"""`vzero-train launch` decides how to start accelerate from the recipe header, the accelerate config
(a file or a shipped name) and the machine's GPUs, and refuses before starting anything when the
GPUs are not there; a training process's own error comes back once, through the error file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vzero_core.cli_support import ERROR_FILE_ENV, CommandError, read_error_file, report_error
from vzero_core.recipes import ACCELERATE_DIR, resolve_accelerate_config, shipped_recipes
from vzero_train.launcher import LaunchPlan, accelerate_command, check_gpus, plan_launch, run_launch, shown

RECIPES = shipped_recipes()
FSDP = ACCELERATE_DIR / "fsdp_8gpu.yaml"


@pytest.mark.parametrize("name", ["fsdp_8gpu", "fsdp_8gpu.yaml"])
def test_shipped_accelerate_configs_resolve_by_name_from_any_folder(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_accelerate_config(name) == FSDP


def test_a_local_accelerate_config_wins_and_an_unknown_one_names_the_shipped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("fsdp_8gpu.yaml").write_text("num_processes: 2\n")
    assert resolve_accelerate_config("fsdp_8gpu.yaml") == Path("fsdp_8gpu.yaml")
    with pytest.raises(FileNotFoundError, match=r"fsdp8: .*did you mean 'fsdp_8gpu'.*shipped: fsdp_8gpu"):
        resolve_accelerate_config("fsdp8")


@pytest.mark.parametrize(
    "recipe, options, expected",
    [
        ("qwen35_4b_from_27b", {}, LaunchPlan(FSDP, 8, 1, False)),  # the header's --accelerate-config
        ("qwen3vl_2b_from_8b", {}, LaunchPlan(None, 8, 1, False)),  # the header's --num-processes
        ("qwen3vl_2b_from_8b", {"num_processes": 2}, LaunchPlan(None, 2, 1, False)),
        ("qwen35_4b_from_27b", {"num_processes": 4}, LaunchPlan(FSDP, 4, 1, False)),
        ("demo", {}, LaunchPlan(None, 1, 1, False)),  # a header that launches nothing: one process
        ("demo", {"cpu": True}, LaunchPlan(None, 1, 1, True)),
    ],
)
def test_launch_plan_from_header_config_and_options(recipe, options, expected):
    assert plan_launch(RECIPES[recipe], **options) == expected


@pytest.mark.parametrize(
    "plan, found, message",
    [
        (
            LaunchPlan(FSDP, 8),
            0,
            "starts 8 processes here (fsdp_8gpu.yaml: one per GPU) and this machine has 0 GPUs",
        ),
        (LaunchPlan(None, 8), 2, "has 2 GPUs (torch.cuda.device_count()); pass --num-processes 2"),
        (LaunchPlan(None, 16, machines=2), 4, "starts 8 processes here"),
        (LaunchPlan(None, 1), 0, "a trial on the CPU: --cpu --num-processes 1"),
    ],
)
def test_too_few_gpus_is_one_located_error(plan, found, message):
    with pytest.raises(CommandError, match="^r.yaml: ") as err:
        check_gpus(plan, "r.yaml", found)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "plan, found",
    [(LaunchPlan(None, 8), 8), (LaunchPlan(None, 16, machines=2), 8), (LaunchPlan(None, 4, cpu=True), 0)],
)
def test_enough_gpus_or_the_cpu_passes(plan, found):
    check_gpus(plan, "r.yaml", found)


def test_accelerate_command_runs_this_python_and_passes_the_train_arguments():
    with_config = accelerate_command(
        LaunchPlan(FSDP, 8), ["qwen35_4b_from_27b", "--steps", "2"], mixed_precision="bf16"
    )
    assert with_config[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert with_config[-6:] == ["-m", "vzero_train.cli", "train", "qwen35_4b_from_27b", "--steps", "2"]
    assert ["--config_file", str(FSDP)] == with_config[4:6]
    plain = accelerate_command(LaunchPlan(None, 8), ["r"], mixed_precision="bf16")
    assert "--multi_gpu" in plain and plain[plain.index("--mixed_precision") :][:2] == [
        "--mixed_precision",
        "bf16",
    ]
    assert shown(plain).startswith("accelerate launch --quiet --num_processes 8 ")


@pytest.mark.parametrize(
    "env, printed, filed",
    [
        ({}, True, False),
        ({"RANK": "0"}, True, False),
        ({"RANK": "3"}, False, False),  # `accelerate launch` by hand: only the main process prints
        ({ERROR_FILE_ENV: "FILE"}, False, True),  # under `vzero-train launch`: the launcher prints
        ({ERROR_FILE_ENV: "FILE", "RANK": "3"}, False, True),
    ],
)
def test_a_command_error_is_printed_once_per_job(env, printed, filed, tmp_path, monkeypatch, capsys):
    for name in ("RANK", ERROR_FILE_ENV):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, str(tmp_path / "errors") if value == "FILE" else value)
    report_error("vzero-train train", "r.yaml: train.store: no such store", 2)
    err = capsys.readouterr().err
    assert (err == "vzero-train train: error: r.yaml: train.store: no such store\n") == printed
    assert not printed or err.count("error:") == 1
    filed_errors = read_error_file(tmp_path / "errors")
    assert filed_errors == ([(2, "r.yaml: train.store: no such store")] if filed else [])


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.mark.parametrize(
    "cmd, exit_code, message",
    [
        (_python("pass"), 0, None),
        (
            # two processes report the same error: it comes back once, with their exit code
            _python(
                "import os\n"
                "for rank in (0, 1):\n"
                f"    open(os.environ['{ERROR_FILE_ENV}'], 'a').write('2\\tr.yaml: train.student: missing\\n')\n"
                "raise SystemExit(1)"
            ),
            2,
            "^r.yaml: train.student: missing$",
        ),
        (_python("raise SystemExit(3)"), 1, "accelerate launch exited with 3"),  # a crash, not an input error
    ],
)
def test_run_launch_reports_what_the_processes_filed(cmd, exit_code, message):
    if message is None:
        assert run_launch(cmd) == 0
        return
    with pytest.raises(CommandError, match=message) as err:
        run_launch(cmd)
    assert err.value.exit_code == exit_code
