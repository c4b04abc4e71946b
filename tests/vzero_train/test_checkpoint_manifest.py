import json

import pytest

from vzero_train.checkpoint_manifest import MANIFEST_FILE, verify_manifest, write_manifest


def _folder(root):
    (root / "model").mkdir(parents=True)
    (root / "model" / "weights.bin").write_bytes(bytes(range(256)) * 64)
    (root / "state.json").write_text('{"step": 3}')
    return root


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-10])


def _flip(path):
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda d: None, None),
        (lambda d: _truncate(d / "model" / "weights.bin"), "model/weights.bin: 16374 bytes, expected 16384"),
        (lambda d: _flip(d / "model" / "weights.bin"), "model/weights.bin: checksum mismatch"),
        (lambda d: (d / "state.json").unlink(), "state.json: missing"),
        (lambda d: (d / MANIFEST_FILE).write_text("{"), "manifest.json: unreadable manifest"),
    ],
)
def test_damage_is_named_by_file(tmp_path, damage, problem):
    folder = _folder(tmp_path / "ckpt")
    write_manifest(folder)
    assert verify_manifest(folder) == []
    damage(folder)
    problems = verify_manifest(folder)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(str(folder)) and problem in problems[0]


def test_manifest_covers_every_file_and_not_itself(tmp_path):
    folder = _folder(tmp_path / "ckpt")
    write_manifest(folder)
    files = json.loads((folder / MANIFEST_FILE).read_text())["files"]
    assert sorted(files) == ["model/weights.bin", "state.json"]
    assert files["state.json"]["size"] == len('{"step": 3}')
    assert not list(folder.glob("*.tmp"))


def test_a_folder_without_manifest_is_unchecked_not_intact(tmp_path):
    assert verify_manifest(_folder(tmp_path / "old")) is None
