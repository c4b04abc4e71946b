"""Test tiers, applied to every collected test (CONTRIBUTING.md, "Test"):

- ``quick``: pure functions, the store, views, recipes, the CLI's own conventions; no model is built
  or loaded. The inner loop: ``python -m pytest -m quick``.
- ``model``: tiny models built and run (trainer, replay, evaluation, grounders). A test is here when it
  uses a model fixture (``MODEL_FIXTURES``) or says ``@pytest.mark.needs_model`` (or its module does,
  with ``pytestmark``).
- ``e2e``: end to end: subprocess runs, kill loops, two-process training, the sandbox, the demo, a
  wheel installed in a fresh environment. Marked ``@pytest.mark.e2e`` (module or test); it wins over
  ``needs_model``.

Each test gets exactly one of the markers ``quick``, ``model``, ``e2e``, so ``-m quick``, ``-m model``
and ``-m e2e`` split the suite into three disjoint tiers.

Each tier has a per-test time limit (``TIER_TIMEOUT``, seconds; a test's own ``timeout`` mark wins),
so a hung test fails naming itself instead of stalling CI.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Under pytest-xdist each worker would start one torch (OpenMP) thread per core: N workers x N threads
# oversubscribe the CPU and slow torch several-fold. Each worker, and the processes its tests start,
# gets its share of the cores instead (an explicit OMP_NUM_THREADS wins).
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // _WORKERS)))

# Session fixtures that build or load models: a test using one is in the model tier.
MODEL_FIXTURES = frozenset(
    {
        "tiny_vlm",
        "tiny_model_path",
        "train_config",
        "models",
        "two_checkpoints",
        "tiny_vlm_pair",
        "trained_teacher",
    }
)
TIER_TIMEOUT = {"quick": 60, "model": 300, "e2e": 900}


def tier_of(item: pytest.Item) -> str:
    if item.get_closest_marker("e2e"):
        return "e2e"
    if item.get_closest_marker("needs_model") or MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
        return "model"
    return "quick"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item)
        if tier != "e2e":
            item.add_marker(getattr(pytest.mark, tier))
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TIER_TIMEOUT[tier]))


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory):
    """``tiny_vlm(family, role)``: the folder of a tiny random model, built once per session.

    Students are 64 wide, teachers 96 (same family -> same tokenizer); images are bounded to 224 px.
    """
    from vzero_core.tiny_models import save_tiny_vlm

    cache: dict[tuple[str, str], str] = {}

    def get(family: str, role: str = "student") -> str:
        key = (family, role)
        if key not in cache:
            path = tmp_path_factory.mktemp(f"{family}-{role}")
            hidden = 64 if role == "student" else 96
            cache[key] = str(
                save_tiny_vlm(family, path, hidden_size=hidden, seed=0 if role == "student" else 1)
            )
        return cache[key]

    return get


@pytest.fixture(scope="session")
def records():
    """Eight synthetic training records (224 px scenes, positive crop, two negative views)."""
    from vzero_train.synthetic import synthetic_records

    return synthetic_records(8, size=224)
