import logging

import pytest

from vzero_train.checkpoint import (
    STATE_FILE,
    DamagedCheckpointsError,
    intact_checkpoint,
    latest_checkpoint,
    list_checkpoints,
)


def _make(root, name, complete=True):
    d = root / "checkpoints" / name
    d.mkdir(parents=True)
    if complete:
        (d / STATE_FILE).write_text("{}")


def test_only_complete_checkpoints_count(tmp_path):
    assert latest_checkpoint(tmp_path) is None
    _make(tmp_path, "step_2")
    _make(tmp_path, "step_10")
    _make(tmp_path, "step_12.tmp")  # interrupted while writing
    _make(tmp_path, "step_11", complete=False)  # no trainer state: not finished
    _make(tmp_path, "notes")
    assert [s for s, _ in list_checkpoints(tmp_path)] == [2, 10]
    assert latest_checkpoint(tmp_path).name == "step_10"


def _manifested(root, step, *, damaged=False):
    from vzero_train.checkpoint_manifest import write_manifest

    d = root / "checkpoints" / f"step_{step}"
    d.mkdir(parents=True)
    (d / STATE_FILE).write_text(f'{{"step": {step}}}')
    (d / "weights.bin").write_bytes(b"w" * 100)
    write_manifest(d)
    if damaged:
        (d / "weights.bin").write_bytes(b"w" * 50)
    return d


@pytest.mark.parametrize(
    "layout, chosen, warned",
    [
        ([], None, []),
        ([(1, False), (2, False)], 2, []),
        ([(1, False), (2, True)], 1, ["step_2"]),
        ([(1, False), (2, True), (3, True)], 1, ["step_3", "step_2"]),
    ],
)
def test_resume_takes_the_newest_intact_checkpoint(tmp_path, caplog, layout, chosen, warned):
    for step, damaged in layout:
        _manifested(tmp_path, step, damaged=damaged)
    with caplog.at_level(logging.WARNING, logger="vzero_train.checkpoint"):
        path = intact_checkpoint(tmp_path)
    assert (path.name if path else None) == (f"step_{chosen}" if chosen else None)
    damaged_msgs = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert [m.split("checkpoints/")[1].split(" ")[0] for m in damaged_msgs] == warned
    assert all("weights.bin: 50 bytes, expected 100" in m for m in damaged_msgs)


def test_every_checkpoint_damaged_refuses_to_restart(tmp_path):
    _manifested(tmp_path, 1, damaged=True)
    with pytest.raises(DamagedCheckpointsError, match=r"step_1: .*weights.bin.*--no-resume"):
        intact_checkpoint(tmp_path)


def test_checkpoints_from_before_manifests_are_taken_as_they_are(tmp_path):
    _make(tmp_path, "step_4")
    assert intact_checkpoint(tmp_path).name == "step_4"
