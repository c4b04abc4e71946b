import pytest

from vzero_data.pipeline.runner import curate

from ..conftest import N_ROWS, snapshot

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield
    ray.shutdown()


@pytest.mark.e2e
def test_ray_executor_writes_the_same_rows_as_local(make_recipe, tmp_path, local_ray):
    ray_run = curate(
        make_recipe("execution.executor=ray", "execution.ray.window=4"), tmp_path / "ray"
    ).summary
    assert ray_run.processed == N_ROWS
    curate(make_recipe(), tmp_path / "local")
    assert snapshot(tmp_path / "ray") == snapshot(tmp_path / "local")
    # resume works the same way: nothing left to do, whichever executor asks
    assert curate(make_recipe("execution.executor=ray"), tmp_path / "ray").nothing_to_do
