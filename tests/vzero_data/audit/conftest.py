import pytest

from ..store.conftest import curated_store, ingested_store, synth_dir  # noqa: F401  (shared fixtures)


@pytest.fixture(scope="session")
def trained_teacher(tmp_path_factory):
    """A tiny teacher trained as the evidence sandbox trained its quick teacher, once per test run,
    on its own split of the shared-colour world (:func:`tests.audit_world.train_teacher`; a few
    minutes on an idle 2-core machine); returns its model folder."""
    from tests.audit_world import TEACHER_SCENES, TEACHER_SEED, build_split, train_teacher

    root = tmp_path_factory.mktemp("trained-teacher")
    store = build_split(root, "teacher", TEACHER_SCENES, TEACHER_SEED, negatives=[{"strategy": "masked"}])
    return str(train_teacher(root, store))
