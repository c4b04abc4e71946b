"""Audit results in the store: published per sample with their rejects, never twice, readable back,
and what ``--audited-by`` readers keep."""

import pytest

from tests.store_builder import CONFIG
from vzero_data.audit.scorer import SampleAudit
from vzero_data.audit.teacher import TeacherIdentity
from vzero_data.audit.writer import AuditWriter, audited_sample_ids
from vzero_data.store import RecordCounts, StoreError, iter_raw_records, open_store
from vzero_data.store.audited import resolve_audit
from vzero_data.store.layout import SCHEMA_BATCH, SHARDS

TEACHER = TeacherIdentity("runs/t/step_5", "sha256:" + "ab" * 32, "step_5")
OTHER = TeacherIdentity("hub/other", "c0ffee1234567", "hub/other")


def views_of(store):
    out = {}
    for r in store.query("SELECT sample_id, view_id, kind FROM views ORDER BY view_id").to_pylist():
        out.setdefault(r["sample_id"], {}).setdefault(r["kind"], []).append(r["view_id"])
    return out


def result(sid, views, *, rejected=(), failure=None, sample_rejected=False):
    """One sample's audit: a positive row and a negative row per negative view; ``rejected``
    negatives (by view id) are not accepted and get a reject."""
    if failure is not None:
        return SampleAudit(sid, CONFIG, failure=failure)
    rows = [{"sample_id": sid, "config_hash": CONFIG, "view_id": views["positive"][0], "context": "positive",
             "accepted": not sample_rejected, "flags": []}]  # fmt: skip
    for v in views.get("negative", []):
        rows.append({"sample_id": sid, "config_hash": CONFIG, "view_id": v, "context": "negative",
                     "accepted": v not in rejected and not sample_rejected,
                     "flags": ["negative_keeps_evidence"] if v in rejected else []})  # fmt: skip
    rejects = [("negative_keeps_evidence", f"view {v}: gap 0.1") for v in rejected]
    return SampleAudit(sid, CONFIG, rows, rejects)


def test_rows_and_rejects_are_published_together_and_keyed_by_teacher_and_hash(curated_store):
    views = views_of(curated_store)
    sids = sorted(views)
    with AuditWriter(curated_store.root, "run-1", TEACHER, "h1", flush_every=2) as w:
        w.add(result(sids[0], views[sids[0]], rejected=views[sids[0]]["negative"]))
        w.add(result(sids[2], views[sids[2]]))
        assert len(w.batches_written) == 1  # flushed after two samples
        w.add(result(sids[3], views[sids[3]], failure=("decode_error", "view does not decode")))
    assert audited_sample_ids(curated_store.root, TEACHER.id, "h1") == {sids[0], sids[2], sids[3]}
    assert audited_sample_ids(curated_store.root, TEACHER.id, "other-hash") == set()
    rejects = curated_store.query(
        "SELECT sample_id, config_hash, stage, reason, detail FROM rejects WHERE stage = 'audit' ORDER BY 1"
    ).to_pylist()
    assert [(r["sample_id"], r["reason"]) for r in rejects] == [
        (sids[0], "negative_keeps_evidence"),
        (sids[3], "decode_error"),
    ]
    assert all(
        r["config_hash"] == CONFIG and f"teacher {TEACHER.id}, audit h1" in r["detail"] for r in rejects
    )
    failed = curated_store.query("SELECT context, flags, accepted FROM audits WHERE sample_id = ?", [sids[3]])
    assert failed.to_pylist() == [{"context": "failed", "flags": ["failed:decode_error"], "accepted": False}]


def test_samples_a_concurrent_writer_published_first_are_not_written_again(curated_store):
    views = views_of(curated_store)
    sid = sorted(views)[0]
    with (
        AuditWriter(curated_store.root, "run-a", TEACHER, "h1") as a,
        AuditWriter(curated_store.root, "run-b", TEACHER, "h1") as b,
    ):
        a.add(result(sid, views[sid], rejected=views[sid]["negative"]))
        b.add(result(sid, views[sid], rejected=views[sid]["negative"]))
        a.flush()
        b.flush()
        assert b.samples_taken == 1
    assert curated_store.query("SELECT count(*) FROM audits").column(0)[0].as_py() == 2
    assert curated_store.query("SELECT count(*) FROM rejects WHERE stage = 'audit'").column(0)[0].as_py() == 1


def test_another_teacher_audits_the_same_samples_beside_it(curated_store):
    views = views_of(curated_store)
    sid = sorted(views)[0]
    for teacher in (TEACHER, OTHER):
        with AuditWriter(curated_store.root, "run", teacher, "h1") as w:
            w.add(result(sid, views[sid]))
    assert audited_sample_ids(curated_store.root, OTHER.id, "h1") == {sid}
    assert audited_sample_ids(curated_store.root, TEACHER.id, "h1") == {sid}


def test_a_row_that_does_not_fit_the_schema_names_its_sample(curated_store):
    with (
        AuditWriter(curated_store.root, "run", TEACHER, "h1") as w,
        pytest.raises(StoreError, match="sample s9"),
    ):
        w.add(SampleAudit("s9", CONFIG, [{"sample_id": "s9", "logprob": "not a number"}]))


@pytest.mark.parametrize(
    "spec",
    [TEACHER.id, TEACHER.name, "h1"],
)
def test_an_audit_is_named_by_its_teacher_or_its_hash(curated_store, spec):
    views = views_of(curated_store)
    sid = sorted(views)[0]
    with AuditWriter(curated_store.root, "run", TEACHER, "h1") as w:
        w.add(result(sid, views[sid]))
    assert resolve_audit(curated_store, spec) == (TEACHER.id, "h1")


def test_naming_no_audit_or_an_ambiguous_one_lists_the_audits(curated_store):
    views = views_of(curated_store)
    sid = sorted(views)[0]
    for h in ("h1", "h2"):
        with AuditWriter(curated_store.root, "run", TEACHER, h) as w:
            w.add(result(sid, views[sid]))
    with pytest.raises(
        StoreError, match=r"no audit by teacher nobody; audits here: step_5@abab.* audit h1; "
    ):
        resolve_audit(curated_store, "nobody")
    with pytest.raises(StoreError, match="several audits match"):
        resolve_audit(curated_store, TEACHER.id)
    assert resolve_audit(curated_store, TEACHER.id, "h2") == (TEACHER.id, "h2")


def test_audited_by_keeps_only_the_views_the_audit_accepted(curated_store):
    """Sample 0: its negative rejected; 1 (no negative): audited; 2: not audited; 3: sample rejected."""
    views = views_of(curated_store)
    sids = sorted(views)
    with AuditWriter(curated_store.root, "run", TEACHER, "h1") as w:
        w.add(result(sids[0], views[sids[0]], rejected=views[sids[0]]["negative"]))
        w.add(result(sids[1], views[sids[1]]))
        w.add(result(sids[3], views[sids[3]], sample_rejected=True))
    counts = RecordCounts()
    records = list(
        iter_raw_records(curated_store, None, None, require_all=False, counts=counts, audited_by="h1")
    )
    assert {r.sample["sample_id"]: sorted(r.negative_bytes) for r in records} == {sids[0]: [], sids[1]: []}
    assert (counts.not_audited, counts.audit_rejected, dict(counts.audit_rejected_views)) == (
        1,
        1,
        {"corner": 1},
    )
    # requiring the negative: the sample whose negative was rejected is skipped and counted too
    counts = RecordCounts()
    assert list(iter_raw_records(curated_store, ["corner"], None, counts=counts, audited_by="h1")) == []
    assert counts.as_dict()["skipped_missing_negative"] == {"corner": 2}
    # without --audited-by nothing changes
    assert len(list(iter_raw_records(curated_store, None, None, require_all=False))) == 4


def test_a_store_made_before_audits_existed_reads_an_empty_audits_table(curated_store):
    (curated_store.root / SHARDS / SCHEMA_BATCH / "audits.parquet").unlink()
    (curated_store.root / "catalog.duckdb").unlink()  # built before the table existed
    store = open_store(curated_store.root)
    assert store.query("SELECT count(*) FROM audits").column(0)[0].as_py() == 0
    assert list(iter_raw_records(store, None, None, require_all=False))  # records read as before
    with pytest.raises(StoreError, match="no audit by teacher step_5"):
        resolve_audit(store, "step_5")


def test_a_published_store_serves_its_audits_and_refuses_a_new_audit(curated_store):
    """Audits travel with `vzero-data sync`: `--audited-by` readers of the URI keep what they keep
    locally; auditing needs a local store (a published one is read-only)."""
    import uuid

    from vzero_data.audit import AuditConfig, run_audit
    from vzero_data.store.sync import sync_store

    views = views_of(curated_store)
    sids = sorted(views)
    with AuditWriter(curated_store.root, "run", TEACHER, "h1") as w:
        w.add(result(sids[0], views[sids[0]], rejected=views[sids[0]]["negative"]))
        w.add(result(sids[1], views[sids[1]]))
    uri = f"memory://audited-{uuid.uuid4().hex[:8]}/store"
    sync_store(curated_store, uri, progress=False)
    published = open_store(uri)

    def kept(store):
        counts = RecordCounts()
        records = iter_raw_records(store, None, None, require_all=False, counts=counts, audited_by="h1")
        return {r.sample["sample_id"]: sorted(r.negative_bytes) for r in records}, counts.as_dict()

    assert kept(published) == kept(curated_store)
    assert kept(published)[0] == {sids[0]: [], sids[1]: []}
    with pytest.raises(StoreError, match="published store is read-only"):
        run_audit(uri, AuditConfig(teacher="runs/t/step_5"))


@pytest.mark.parametrize("fmt", ["swift", "trl", "vision_opd"])
def test_the_trainer_exports_write_only_what_the_audit_accepted(curated_store, tmp_path, fmt):
    """Sample 0: its negative rejected (not written: the export needs one); 1 has no negative;
    2: accepted; 3: not audited."""
    import importlib

    export = getattr(importlib.import_module(f"vzero_data.store.export_{fmt}"), f"export_{fmt}")
    views = views_of(curated_store)
    sids = sorted(views)
    with AuditWriter(curated_store.root, "run", TEACHER, "h1") as w:
        w.add(result(sids[0], views[sids[0]], rejected=views[sids[0]]["negative"]))
        w.add(result(sids[2], views[sids[2]]))
    summary = export(curated_store, tmp_path / fmt, progress=False, audited_by="h1").as_dict()
    assert summary["written"] == 1
    assert (summary["skipped_not_audited"], summary["audit_rejected_negatives"]) == (2, {"corner": 1})
    with pytest.raises(StoreError, match="no audit by"):
        export(curated_store, tmp_path / "other", progress=False, audited_by="someone-else")
    assert not (tmp_path / "other").exists()
