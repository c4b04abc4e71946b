from vzero_train.checkpoint import STATE_FILE, latest_checkpoint, list_checkpoints


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
