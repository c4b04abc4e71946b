import json

import pytest

from vzero_core.model_source import resolve_model_source


def _layout(root, files):
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"step": 8}) if rel.endswith("trainer_state.json") else "{}")


@pytest.mark.parametrize(
    "files, given, path, checkpoint, step",
    [
        (["m/config.json"], "m", "m", None, None),
        (["step_8/model/config.json", "step_8/trainer_state.json"], "step_8", "step_8/model", "step_8", 8),
        (
            ["step_8/model/config.json", "step_8/trainer_state.json"],
            "step_8/model",
            "step_8/model",
            "step_8",
            8,
        ),
        # a folder that merely holds a model/ subfolder is not a training checkpoint
        (["x/model/config.json"], "x", "x/model", None, None),
    ],
)
def test_resolves_folders_and_checkpoints(tmp_path, files, given, path, checkpoint, step):
    _layout(tmp_path, files)
    source = resolve_model_source(tmp_path / given)
    assert source.path == str(tmp_path / path)
    assert source.checkpoint == (tmp_path / checkpoint if checkpoint else None)
    assert source.step == step


@pytest.mark.parametrize("given", ["Qwen/Qwen3-VL-2B-Instruct", "gpt2"])
def test_hub_ids_pass_through(given):
    assert resolve_model_source(given).path == given


@pytest.mark.parametrize(
    "given, message",
    [
        ("run/checkpoints/step_8/model", "no such folder: {root}/run/checkpoints/step_8/model"),
        ("empty", "{root}/empty: no model in this folder"),
        ("file.txt", "not a folder: {root}/file.txt"),
    ],
)
def test_missing_or_empty_folders_are_named(tmp_path, given, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(FileNotFoundError) as err:
        resolve_model_source(tmp_path / given)
    assert str(err.value).startswith(message.format(root=tmp_path))


def test_relative_missing_path_is_a_folder_not_a_hub_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the checkout: the README's demo leaves a demo_out/ there
    with pytest.raises(FileNotFoundError, match=r"^no such folder: demo_out/train/checkpoints/step_8$"):
        resolve_model_source("demo_out/train/checkpoints/step_8")
