"""A teacher's identity changes with its weights, not with the path that names it."""

import json

import pytest

from vzero_data.audit.teacher import TeacherIdentity, teacher_identity, weights_digest


def model_folder(path, weights=b"\x00" * 64):
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "qwen2_5_vl"}))
    (path / "model.safetensors").write_bytes(weights)
    return path


def test_the_same_weights_are_the_same_teacher_whatever_names_them(tmp_path, monkeypatch):
    folder = model_folder(tmp_path / "step_100")
    monkeypatch.chdir(tmp_path)
    by_path = teacher_identity(str(folder))
    by_relative = teacher_identity("step_100")
    assert by_path.id == by_relative.id
    assert by_path.name == str(folder) and by_relative.name == "step_100"
    assert by_path.revision.startswith("sha256:") and by_path.id.startswith("step_100@")


def test_new_weights_in_the_same_folder_are_another_teacher(tmp_path):
    folder = model_folder(tmp_path / "teacher")
    before = teacher_identity(folder)
    (folder / "model.safetensors").write_bytes(b"\x01" * 64)
    assert teacher_identity(folder).id != before.id


def test_a_training_checkpoint_is_named_by_its_step(tmp_path):
    ckpt = tmp_path / "runs" / "step_40"
    model_folder(ckpt / "model")
    (ckpt / "trainer_state.json").write_text(json.dumps({"step": 40}))
    assert teacher_identity(ckpt).id.startswith("step_40@")
    assert teacher_identity(ckpt / "model").id == teacher_identity(ckpt).id


def test_a_hub_snapshot_is_named_by_its_repo_and_commit(tmp_path):
    snap = model_folder(tmp_path / "hub" / "models--Qwen--Qwen3-VL-8B" / "snapshots" / "0123abcd4567")
    ident = teacher_identity(snap)
    assert ident == TeacherIdentity(str(snap), "0123abcd4567", "Qwen/Qwen3-VL-8B")
    assert ident.id == "Qwen/Qwen3-VL-8B@0123abcd4567"


def test_digests_are_remembered_until_a_weight_file_changes(tmp_path, monkeypatch):
    folder = model_folder(tmp_path / "t")
    cache = tmp_path / "digests.json"
    first = weights_digest(folder, cache)
    assert json.loads(cache.read_text()) and weights_digest(folder, cache) == first

    def no_hashing(*args, **kwargs):
        raise AssertionError("hashed again")

    monkeypatch.setattr("hashlib.sha256", no_hashing)
    assert weights_digest(folder, cache) == first  # from the cache
    monkeypatch.undo()
    (folder / "model.safetensors").write_bytes(b"\x02" * 65)
    assert weights_digest(folder, cache) != first


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "no such folder"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "no model in this folder"),
    ],
)
def test_no_teacher_is_a_clear_error(tmp_path, make, message):
    with pytest.raises(FileNotFoundError, match=message):
        teacher_identity(make(tmp_path))


def test_a_model_folder_without_weights_is_an_error(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no weight files"):
        teacher_identity(folder)
