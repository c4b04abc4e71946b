"""``vzero-train plan`` through its real entry point: a store's sizes, the paper recipes, the
warning and exit code past the device's memory, located errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vzero_train.cli import main

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from tests.vzero_train.test_store_training import _curated_store

    return _curated_store(tmp_path_factory.mktemp("plan"))


def recipe(tmp_path, tiny_vlm, store, family="qwen3_5") -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(
        "train:\n"
        f"  store: {store}\n"
        f"  student: {tiny_vlm(family)}\n"
        f"  teacher: {{kind: external, path: {tiny_vlm(family, 'teacher')}}}\n"
        "  data: {negative: corner}\n"
        "  rollout: {group_size: 2, max_new_tokens: 8}\n"
        "  prompts_per_step: 2\n"
    )
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "vzero_train.cli", "plan", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_plans_a_store_through_the_command_line(tmp_path, tiny_vlm, store):
    """The store's 192 px images through the tiny Qwen3.5 processor (16 px patches, 2x2 merge):
    (192/32)^2 = 36 visual tokens each; the plan fits and exits 0."""
    done = run_cli(str(recipe(tmp_path, tiny_vlm, store)))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"images:   store {store} (4 samples)" in out
    assert "student full image: up to 36 visual tokens" in out
    assert "rollout linear-attention states" in out  # Qwen3.5's hybrid layers
    assert "(fits;" in out and "WARNING" not in out


def test_over_the_device_warns_says_what_to_change_and_exits_1(tmp_path, tiny_vlm, store, capsys):
    code = main(["plan", str(recipe(tmp_path, tiny_vlm, store)), "--device-memory-gb", "0.01"])
    out = capsys.readouterr().out
    assert code == 1
    assert "DOES NOT FIT" in out and "WARNING: the " in out
    assert "what to change (each re-planned):" in out


def test_json_output(tmp_path, tiny_vlm, store, capsys):
    assert main(["plan", str(recipe(tmp_path, tiny_vlm, store, "qwen3_vl")), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["fits"] and doc["processes"] == 1
    assert doc["peak_bytes"] == pytest.approx(
        sum(doc["resident"].values()) + sum(doc["phases"][doc["peak_phase"]].values())
    )
    assert doc["images"]["visual_tokens"]["student full image"]["max"] == 36


@pytest.mark.parametrize("name", ["qwen3vl_2b_from_8b", "qwen35_4b_from_27b"])
def test_the_paper_recipes_fit_80_gb_with_assumed_sizes(name, capsys):
    assert main(["plan", name, "--image-size", "1280x960"]) == 0
    out = capsys.readouterr().out
    assert "NOTE: image sizes are ASSUMED" in out
    assert "student full image: up to 1200 visual tokens" in out  # 40 x 30 blocks of 32 px
    assert "of 80 GB (fits;" in out


def test_the_27b_teacher_replicated_does_not_fit(capsys):
    code = main(["plan", "qwen35_4b_from_27b", "--image-size", "1280x960", "--set", "teacher.shard=false"])
    out = capsys.readouterr().out
    assert code == 1 and "teacher weights (2 B/param, replicated)" in out
    assert "--set teacher.shard=true" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["qwen3vl_2b_from_8b"], "train.store: data/store: no such store"),
        (["qwen3vl_2b_from_8b", "--image-size", "big"], "--image-size 'big': expected WIDTHxHEIGHT"),
        (
            ["qwen3vl_2b_from_8b", "--image-size", "64x64", "--accelerate-config", "none.yaml"],
            "none.yaml: no such accelerate config",
        ),
        (
            ["qwen3vl_2b_from_8b", "--image-size", "64x64", "--set", "student=org/unknown"],
            "org/unknown: not a local folder",
        ),
        (
            ["qwen3vl_2b_from_8b", "--image-size", "64x64", "--num-processes", "3"],
            "must split evenly over 3 processes",
        ),
        (
            [
                "qwen3vl_2b_from_8b",
                "--image-size",
                "64x64",
                "--set",
                "teacher.kind=ema",
                "--set",
                "teacher.shard=true",
            ],
            "teacher.shard",
        ),
    ],
)
def test_errors_name_the_recipe_and_what_is_wrong(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["plan", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("vzero-train plan: error: ") and message in err[-1], err
