"""Where the teacher runs does not change the rows: worker processes and Ray actors write what this
process writes."""

import shutil

import pytest

from tests.audit_world import build_split
from vzero_data.audit import AuditConfig, run_audit
from vzero_data.store import open_store

pytestmark = pytest.mark.e2e
N = 4


def rows(store):
    table = open_store(store).query(
        "SELECT sample_id, context, strategy, round(logprob, 4) AS lp, flags FROM audits ORDER BY ALL"
    )
    return table.to_pylist()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from vzero_core.tiny_models import save_tiny_vlm

    root = tmp_path_factory.mktemp("executors")
    store = build_split(root, "test", N, seed=1005, negatives=[{"strategy": "masked"}])
    teacher = str(save_tiny_vlm("qwen2_5_vl", root / "teacher", hidden_size=64, image_size=112))
    local = shutil.copytree(store, root / "local")
    run_audit(
        local, AuditConfig(teacher=teacher, execution={"device": "cpu", "batch_size": 2, "progress": False})
    )
    return store, teacher, rows(local)


@pytest.mark.parametrize(
    "execution",
    [
        {"workers": 2},
        pytest.param({"executor": "ray", "ray": {"actors": 1, "window": 3}}, id="ray"),
    ],
    ids=["workers", "ray"],
)
def test_the_executor_does_not_change_the_rows(world, tmp_path, execution):
    store, teacher, expected = world
    if execution.get("executor") == "ray":
        ray = pytest.importorskip("ray")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    try:
        copy = shutil.copytree(store, tmp_path / "store")
        config = AuditConfig(
            teacher=teacher, execution={"device": "cpu", "batch_size": 2, "progress": False, **execution}
        )
        assert run_audit(copy, config).audited == N
        assert rows(copy) == expected
    finally:
        if execution.get("executor") == "ray":
            ray.shutdown()
