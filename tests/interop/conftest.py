"""A small curated store (synthetic scenes, a positive crop and a 'corner' negative each) whose
exports the trainers' own dataset code reads in these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store_builder import curate
from vzero_data.ingest import ingest
from vzero_data.store import Store, open_store
from vzero_data.synth import write_scenes


@pytest.fixture(scope="session")
def interop_store(tmp_path_factory) -> Store:
    root = tmp_path_factory.mktemp("interop")
    write_scenes(root / "synth", 3, size=160, seed=5, progress=False)
    store = open_store(root / "store", create=True)
    ingest(str(root / "synth"), "synthetic", store, progress=False)
    curate(store, positive_margin=0.5)
    return store


@pytest.fixture
def export_to(tmp_path):
    """``export_to(function, **kwargs)``: run an export of the interop store into a fresh folder."""

    def run(export, store: Store, **kwargs) -> Path:
        out = tmp_path / f"export-{export.__name__}"
        summary = export(store, out, progress=False, **kwargs)
        assert summary.written == 3, summary.as_dict()
        return out

    return run
