"""Every shipped recipe's first line is the command that runs it, and that command works exactly as
written from a fresh, empty folder (recipes are named, and ship with the package).

Recipes that need a GPU, a model download or a benchmark on disk cannot run here: for those the
test runs the header's command in the fresh folder and checks that it stops at once with one
located `error:` line naming the recipe and what is missing, before creating anything.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vzero_core.recipes import header_command, resolve_recipe, shipped_recipes
from vzero_data.pipeline.load import load_recipe
from vzero_train.config import load_train_config
from vzero_train.sandbox.config import load_sandbox_config

ROOT = Path(__file__).resolve().parents[1]
RECIPES = shipped_recipes()
# The recipes whose header runs to the end on a CPU in a test's time.
RUNNABLE = {"demo", "ablation_negatives"}
# Runs end to end with no inputs, too long for this test: its quick run is a slow test of its own
# (tests/vzero_train/commands/test_sandbox.py).
SELF_CONTAINED = {"sandbox"}
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1"}


def as_python(command: str) -> str:
    """The header's command with the console scripts run from this checkout."""
    tools = {
        "vzero-data": f"{shlex.quote(sys.executable)} -m vzero_data.cli",
        "vzero-train": f"{shlex.quote(sys.executable)} -m vzero_train.cli",
        "accelerate launch --num_processes 8 -m vzero_train.cli": f"{shlex.quote(sys.executable)} -m vzero_train.cli",
        "accelerate launch --config_file fsdp_8gpu.yaml -m vzero_train.cli": f"{shlex.quote(sys.executable)} -m vzero_train.cli",
    }
    for tool, replacement in tools.items():
        command = command.replace(tool, replacement)
    return command


def run_header(name: str, cwd: Path) -> subprocess.CompletedProcess:
    command = as_python(header_command(RECIPES[name]))
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=1200
    )


@pytest.mark.parametrize("name", RECIPES)
def test_header_names_the_recipe_and_it_validates(name):
    path = RECIPES[name]
    command = header_command(path)
    doc = yaml.safe_load(path.read_text())
    assert "source" in doc or "train" in doc, "a recipe curates, trains, or both"
    if "sandbox" in doc:  # the sandbox curates and trains per split itself: its own section and command
        assert "vzero-train sandbox " in command, command
        load_sandbox_config(path)
        return
    if "source" in doc:
        assert f"vzero-data curate {name} " in command + " ", command
        load_recipe(path)
    if "train" in doc:
        assert f"train {name}" in command, command
        load_train_config(path)


@pytest.mark.parametrize("name", RECIPES)
def test_shipped_recipes_resolve_by_name_from_anywhere(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_recipe(name) == RECIPES[name]
    assert resolve_recipe(f"{name}.yaml") == RECIPES[name]
    assert resolve_recipe(f"recipes/{name}.yaml") == RECIPES[name]  # the old documented form


def test_a_local_file_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").write_text("name: mine\n")
    assert resolve_recipe("demo") == Path("demo")


@pytest.mark.parametrize(
    "arg, message",
    [
        ("dmeo", "no shipped recipe of that name (did you mean 'demo'?)"),
        ("elsewhere/demo.yaml", "no such recipe file"),
    ],
)
def test_unknown_recipe_names(arg, message, tmp_path, monkeypatch):
    from vzero_data.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["curate", arg, "--out", "s"]) == 2
    assert not (tmp_path / "s").exists()


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_header_runs_as_written_in_a_fresh_folder(name, tmp_path):
    done = run_header(name, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    out_dir = tmp_path / "demo_out"
    assert (out_dir / "synth" / "manifest.jsonl").is_file(), "the scenes were synthesized on demand"
    if name == "demo":
        assert "kept: 16 samples" in done.stdout
        assert (out_dir / "train" / "checkpoints" / "step_8").is_dir()
    else:
        assert "kept: 16 samples" in done.stdout
        assert (out_dir / "ablation_store").is_dir()


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(set(RECIPES) - RUNNABLE - SELF_CONTAINED))
def test_header_that_needs_data_or_models_stops_at_once_naming_what_is_missing(name, tmp_path):
    done = run_header(name, tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert lines[-1].startswith(("vzero-data curate: error: ", "vzero-train train: error: ")), lines
    assert f"{name}.yaml" in lines[-1]
    assert list(tmp_path.iterdir()) == [], "nothing is created before the inputs are found"


def test_recipes_command_lists_prints_and_copies(tmp_path, capsys):
    from vzero_data.cli import main

    assert main(["recipes"]) == 0
    listing = capsys.readouterr().out
    for name, path in RECIPES.items():
        assert name in listing and header_command(path) in listing
    assert main(["recipes", "demo"]) == 0
    assert capsys.readouterr().out == RECIPES["demo"].read_text()
    assert main(["recipes", "demo", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "demo.yaml").read_text() == RECIPES["demo"].read_text()
    assert main(["recipes", "demo", "--out", str(tmp_path)]) == 2
    assert "exists: pass --force" in capsys.readouterr().err
    assert main(["recipes", "dem"]) == 2
    assert "did you mean 'demo'" in capsys.readouterr().err


def test_recipes_ship_as_package_data():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'vzero_recipes = ["*.yaml", "accelerate/*.yaml"]' in text
    assert 'vzero_recipes = "recipes"' in text
    assert all(path.parent == ROOT / "recipes" for path in RECIPES.values())
