"""Every shipped recipe's first line is the command that runs it, and that command works exactly as
written from a fresh, empty folder (recipes are named, and ship with the package).

The header tests run the header itself, word for word, through the shell, with this checkout's
console scripts first on PATH: what a user who copies it runs. Recipes that need a GPU, a model
download or a benchmark on disk cannot run here: their header must stop at once with exactly one
`error:` line, the last, naming the recipe and what is missing, exit code 2, no traceback, and
nothing created. Paper-scale headers start `vzero-train launch`, which checks the store, the models
and one GPU per process before it starts `accelerate launch`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vzero_core.recipes import (
    description,
    header_command,
    resolve_recipe,
    shipped_accelerate_configs,
    shipped_recipes,
)
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
# Training recipes whose header launches on GPUs (`vzero-train launch`).
PAPER_SCALE = {
    name for name, path in RECIPES.items() if header_command(path).startswith("vzero-train launch ")
}
SCRIPTS = Path(sys.executable).parent  # this environment's console scripts (vzero-data, vzero-train)


def header_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment a user's shell has, with this checkout's scripts first and no hub access."""
    if not (SCRIPTS / "vzero-train").exists():
        pytest.skip(f"the console scripts are not installed in {SCRIPTS} (pip install -e .)")
    return {
        **os.environ,
        "PATH": f"{SCRIPTS}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path.parent / f"{tmp_path.name}-hf-home"),  # an empty cache: no models
        "TQDM_DISABLE": "1",
        **extra,
    }


def run_header(name: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The recipe's first-line command, word for word, run by the shell in ``cwd``."""
    return subprocess.run(
        ["bash", "-c", header_command(RECIPES[name])],
        cwd=cwd,
        env=env or header_env(cwd),
        capture_output=True,
        text=True,
        timeout=1200,
    )


def assert_one_error_line(done: subprocess.CompletedProcess, name: str) -> str:
    """Exit code 2, no traceback, and one `error:` line, the last, naming the recipe; returns it."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    errors = [line for line in lines if "error:" in line]
    assert errors == lines[-1:], lines
    assert lines[-1].startswith(("vzero-data curate: error: ", "vzero-train launch: error: ")), lines
    assert f"{name}.yaml" in lines[-1]
    return lines[-1]


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
        assert f"vzero-train train {name}" in command or f"vzero-train launch {name} " in command, command
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
        config = re.search(r"config ([0-9a-f]{16}), shard", done.stdout).group(1)
        assert f"config {config}, shard" in (ROOT / "README.md").read_text(), (
            "the README's excerpt is current"
        )
    else:
        assert "kept: 16 samples" in done.stdout
        assert (out_dir / "ablation_store").is_dir()


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(set(RECIPES) - RUNNABLE - SELF_CONTAINED))
def test_header_that_needs_data_or_models_stops_at_once_naming_what_is_missing(name, tmp_path):
    done = run_header(name, tmp_path)
    line = assert_one_error_line(done, name)
    if name in PAPER_SCALE:
        assert "train.store: data/store: no such store" in line
    assert list(tmp_path.iterdir()) == [], "nothing is created before the inputs are found"


def test_paper_scale_headers_launch_through_the_checking_launcher():
    assert {"qwen35_4b_from_27b", "qwen3vl_2b_from_8b"} == PAPER_SCALE
    for name in PAPER_SCALE:
        assert header_command(RECIPES[name]).startswith(f"vzero-train launch {name} ")


def _store_at(folder: Path) -> None:
    from vzero_data.store import open_store

    open_store(folder, create=True)


def _cache_model(hf_home: Path, repo_id: str) -> None:
    """Put ``repo_id``'s config.json into a Hugging Face cache laid out as the hub client writes it."""
    repo = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(PAPER_SCALE))
def test_paper_scale_header_with_the_store_but_no_models_names_the_student(name, tmp_path):
    _store_at(tmp_path / "data" / "store")
    done = run_header(name, tmp_path)
    line = assert_one_error_line(done, name)
    config = load_train_config(RECIPES[name])
    assert f"train.student: model {config.student!r} is not in the local Hugging Face cache" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"], "nothing else is created"


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(PAPER_SCALE))
def test_paper_scale_header_with_store_and_models_gets_to_the_gpus(name, tmp_path):
    """Everything a run reads is there; on a machine with fewer GPUs than processes it stops naming
    them (with 8 GPUs it would start: see tests/vzero_train/commands/test_launch.py for a start)."""
    from vzero_train.launcher import visible_gpus

    if visible_gpus() >= 8:
        pytest.skip("this machine has the GPUs: the header would start a real run")
    _store_at(tmp_path / "data" / "store")
    env = header_env(tmp_path)
    config = load_train_config(RECIPES[name])
    for model in (config.student, config.teacher.path):
        _cache_model(Path(env["HF_HOME"]), model)
    done = run_header(name, tmp_path, env)
    line = assert_one_error_line(done, name)
    assert "the launch starts 8 processes here" in line and "GPU" in line


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


@pytest.mark.parametrize(
    "header, expected",
    [
        ("# cmd\n#\n# One line. Then more.\nx: 1\n", "One line."),
        (
            "# cmd\n#\n# A sentence that\n# spans lines (see a.yaml), whole.\n# Next one.\n",
            "A sentence that spans lines (see a.yaml), whole.",
        ),
        (
            "# cmd\n#\n# Qwen3.5-4B student, no full stop\n#\n# Second paragraph.\n",
            "Qwen3.5-4B student, no full stop",
        ),
        ("# cmd\ndescription: given\n# First.\n", "given"),
    ],
)
def test_description_is_the_first_whole_sentence(tmp_path, header, expected):
    path = tmp_path / "r.yaml"
    path.write_text(header)
    assert description(path) == expected


@pytest.mark.parametrize(
    "path", [*RECIPES.values(), *shipped_accelerate_configs().values()], ids=lambda p: p.stem
)
def test_listed_descriptions_are_never_cut_mid_sentence(path):
    doc = yaml.safe_load(path.read_text()) or {}
    if not doc.get("description"):
        assert description(path).endswith("."), description(path)
