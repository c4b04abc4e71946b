"""A model that cannot load is reported at once in command-line words: a missing folder is "no such
folder", a hub id outside the cache fails immediately when the hub is off or unreachable."""

from __future__ import annotations

import time

import pytest
import yaml

from vzero_core import model_source
from vzero_core.model_source import looks_like_local_path, model_source_problem


@pytest.mark.parametrize(
    "name, local",
    [
        ("./models/dino", True),
        ("/abs/model", True),
        ("~/m", True),
        ("runs/a/checkpoint-20", True),
        ("model/", True),
        ("IDEA-Research/grounding-dino-tiny", False),
        ("gpt2", False),
    ],
)
def test_looks_like_local_path(name, local):
    assert looks_like_local_path(name) is local


@pytest.fixture
def hub(monkeypatch):
    """Control the cache, the offline switch and reachability; count network probes."""
    state = {"cached": False, "reachable": True, "probes": 0}

    def reachable(timeout=3.0):
        state["probes"] += 1
        return state["reachable"]

    monkeypatch.setattr(model_source, "in_hub_cache", lambda repo: state["cached"])
    monkeypatch.setattr(model_source, "hub_reachable", reachable)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    return state


@pytest.mark.parametrize(
    "name, cached, offline, reachable, expected",
    [
        ("./missing", False, False, True, "model ./missing: no such folder"),
        ("org/model", True, True, False, None),
        ("org/model", False, False, True, None),
        ("org/model", False, True, True, "not in the local Hugging Face cache and HF_HUB_OFFLINE is set"),
        ("org/model", False, False, False, "the hub is unreachable (no network?)"),
    ],
)
def test_model_source_problem(hub, monkeypatch, name, cached, offline, reachable, expected):
    hub.update(cached=cached, reachable=reachable)
    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    problem = model_source_problem(name)
    assert problem is None if expected is None else expected in problem
    if offline or cached:
        assert hub["probes"] == 0, "offline mode is read from the environment, not probed"


def test_existing_folder_and_file(tmp_path, hub):
    assert model_source_problem(str(tmp_path)) is None
    (tmp_path / "weights.bin").write_bytes(b"")
    assert "not a folder" in model_source_problem(str(tmp_path / "weights.bin"))


@pytest.mark.parametrize(
    "model, offline, message",
    [
        (
            "./no_such_model",
            False,
            "demo.yaml: grounding.model: grounding model ./no_such_model: no such folder",
        ),
        ("IDEA-Research/grounding-dino-tiny", True, "HF_HUB_OFFLINE is set"),
    ],
)
def test_curate_stops_before_anything_when_the_grounding_model_is_missing(
    tmp_path, monkeypatch, capsys, hub, model, offline, message
):
    from vzero_data.cli import main

    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    argv = ["curate", "demo", "--out", "store", "--set", "grounding.backend=grounding-dino"]
    start = time.monotonic()
    assert main([*argv, "--set", f"grounding.model={model}"]) == 2
    assert time.monotonic() - start < 60
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"vzero-data curate: error: {message}" or message in err[-1]
    assert list(tmp_path.iterdir()) == [], "no scenes synthesized, no store created"


def test_train_names_a_missing_student_folder(tmp_path, monkeypatch, capsys, hub):
    from tests.store_builder import png  # noqa: F401  (the store builder's writer makes a real store)
    from vzero_data.store import open_store
    from vzero_train.cli import main

    open_store(tmp_path / "store", create=True)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {"train": {"store": str(tmp_path / "store"), "student": "./nowhere", "teacher": {"kind": "ema"}}}
        )
    )
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(recipe)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "vzero-train train: error: r.yaml: train.student: model ./nowhere: no such folder"
