"""A tiny curated store built in the test: synthetic scenes ingested, then views cut with PIL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store_builder import curate
from vzero_data.ingest import ingest
from vzero_data.store import Store, open_store
from vzero_data.synth import write_scenes


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    write_scenes(out, 4, size=192, seed=3, progress=False)
    return out


@pytest.fixture
def ingested_store(tmp_path, synth_dir) -> Store:
    store = open_store(tmp_path / "store", create=True)
    ingest(str(synth_dir), "synthetic", store, progress=False)
    return store


@pytest.fixture
def curated_store(ingested_store) -> Store:
    curate(ingested_store, skip_negative=(1,))
    return ingested_store
