import json
import math

from vzero_train.metrics import MetricsLogger, read_metrics


def test_logs_json_lines_and_truncates_on_resume(tmp_path):
    logger = MetricsLogger(tmp_path, tensorboard=False)
    for step in (1, 2, 3):
        logger.log(step, {"loss": step / 10, "nan": math.nan})
    logger.close()
    records = read_metrics(tmp_path)
    assert [r["step"] for r in records] == [1, 2, 3]
    assert records[0]["loss"] == 0.1 and records[0]["nan"] is None

    MetricsLogger(tmp_path, tensorboard=False, resume_step=2).log(3, {"loss": 0.33})
    assert [(r["step"], r["loss"]) for r in read_metrics(tmp_path)] == [(1, 0.1), (2, 0.2), (3, 0.33)]


def test_disabled_logger_writes_nothing(tmp_path):
    MetricsLogger(tmp_path / "m", enabled=False).log(1, {"a": 1})
    assert not (tmp_path / "m").exists()


def test_tensor_values_become_plain_numbers(tmp_path):
    import torch

    MetricsLogger(tmp_path, tensorboard=False).log(1, {"w": torch.tensor(0.5)})
    assert json.loads((tmp_path / "metrics.jsonl").read_text())["w"] == 0.5
