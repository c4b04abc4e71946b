"""Tiny random checkpoints, built once per test session and loaded by path like real ones."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """``tiny_model_path(family)`` -> folder of a tiny random checkpoint of that family (built once)."""
    from tests.tiny_detectors import save_tiny_model

    built = {}

    def get(family: str):
        if family not in built:
            built[family] = save_tiny_model(family, tmp_path_factory.mktemp(family))
        return built[family]

    return get
