"""`report_to: [wandb, mlflow]`: every logged step also goes to Weights & Biases and MLflow through
accelerate's trackers, with the resolved recipe section as the run's parameters. Both run here in
their offline modes (W&B's offline run files, MLflow's folder store); a test skips when its package
is not installed."""

from __future__ import annotations

import time

import pytest

from vzero_train.metrics import MetricsLogger, read_metrics
from vzero_train.trackers import TrackerError, flat_params, require_trackers


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """Both trackers confined to ``tmp_path``: no account, no server, no network."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb-cache"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    return tmp_path


def mlflow_history(tracking_uri: str, key: str) -> tuple[dict[str, str], list[tuple[int, float]]]:
    """The params and ``key``'s (step, value) history of the only run in the ``vzero`` experiment."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("vzero").experiment_id])
    history = client.get_metric_history(run.info.run_id, key)
    return run.data.params, sorted((m.step, m.value) for m in history)


@pytest.mark.parametrize(
    "values, flat",
    [
        (
            {"optim": {"lr": 1e-6, "betas": [0.9, 0.99]}, "steps": 8},
            {"optim.lr": 1e-6, "optim.betas": "[0.9, 0.99]", "steps": 8},
        ),
        ({"teacher": {"path": None}}, {"teacher.path": None}),
    ],
)
def test_params_are_flattened_to_dotted_keys(values, flat):
    assert flat_params(values) == flat


def test_a_missing_tracker_package_names_the_extra(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(
        TrackerError, match=r"train.report_to: wandb, mlflow is not installed \(pip install 'vzero\[track\]'"
    ):
        require_trackers(["wandb", "mlflow"], "train.report_to")


def test_mlflow_gets_every_logged_step_and_the_parameters(offline):
    pytest.importorskip("mlflow")
    out = offline / "run"
    logger = MetricsLogger(out, tensorboard=False, report_to=["mlflow"], params={"optim": {"lr": 2e-6}})
    logger.log(1, {"loss/policy": 0.5, "note": "text is not a metric"})
    logger.log(2, {"loss/policy": 0.25})
    logger.close()
    params, history = mlflow_history((offline / "mlruns").as_uri(), "loss/policy")
    assert history == [(1, 0.5), (2, 0.25)]
    assert params["optim.lr"] == "2e-06"
    assert [r["step"] for r in read_metrics(out)] == [1, 2], "metrics.jsonl is written as before"


@pytest.mark.e2e  # W&B runs its own service process
def test_wandb_offline_run_holds_the_logged_metrics(offline):
    pytest.importorskip("wandb")
    out = offline / "run"
    logger = MetricsLogger(out, tensorboard=False, report_to=["wandb"], params={"steps": 8})
    logger.log(1, {"gate/weight_mean": 0.75})
    logger.close()
    (run_file,) = (out / "wandb").glob("offline-run-*/run-*.wandb")
    # The offline run file is W&B's record log: the metric's key and the config's are in it verbatim.
    # W&B's service writes it on its own time after finish(): wait for it.
    deadline = time.monotonic() + 60
    while b"gate/weight_mean" not in run_file.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.2)
    data = run_file.read_bytes()
    assert b"gate/weight_mean" in data and b"steps" in data


@pytest.mark.needs_model
def test_a_training_run_reports_to_mlflow(offline, train_config, records):
    pytest.importorskip("mlflow")
    from vzero_train.trainer import Trainer

    Trainer(train_config(report_to=["mlflow"], steps=2), records=lambda: records).train()
    params, history = mlflow_history((offline / "mlruns").as_uri(), "opd/reverse_kl_k1")
    assert [step for step, _ in history] == [1, 2]
    assert params["gate.alpha"] == "0.5" and params["report_to"] == "['mlflow']"
