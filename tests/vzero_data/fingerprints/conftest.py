"""Pictures for fingerprint tests, made here: procedural photos and synthetic scenes."""

import numpy as np
import pytest

from tests.near_duplicates import REGION_SOURCE_SIZE, photo, scene


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    """Benchmark fingerprints are cached under $VZERO_CACHE_DIR: never the user's cache in tests."""
    monkeypatch.setenv("VZERO_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def big_photo() -> np.ndarray:
    return photo(1, REGION_SOURCE_SIZE)


@pytest.fixture(scope="session")
def photos() -> list[np.ndarray]:
    return [photo(seed) for seed in range(10, 14)]


@pytest.fixture(scope="session")
def scenes() -> list[np.ndarray]:
    return [scene(5, i) for i in range(4)]
