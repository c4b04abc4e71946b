"""``run_audit`` and ``vzero-data audit`` on a small shared-colour store with a tiny random teacher:
every context scored, resumable, shardable, label-free without reading labels, and a random teacher
gives the gate no signal."""

import json
import shutil

import pytest

from tests.audit_world import build_split
from vzero_data.audit import AuditConfig, run_audit, summarize
from vzero_data.audit.verdicts import NO_GATE_SIGNAL
from vzero_data.cli import main
from vzero_data.store import open_store

pytestmark = pytest.mark.needs_model
STRATEGIES = ["masked", "shuffled"]
N = 6


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit-world")
    return build_split(root, "test", N, seed=1005, negatives=[{"strategy": s} for s in STRATEGIES])


@pytest.fixture(scope="module")
def random_teacher(tmp_path_factory):
    from vzero_core.tiny_models import save_tiny_vlm

    return str(
        save_tiny_vlm(
            "qwen2_5_vl", tmp_path_factory.mktemp("random-teacher"), hidden_size=128, image_size=112
        )
    )


@pytest.fixture
def store(world, tmp_path):
    return shutil.copytree(world, tmp_path / "store")


def config(teacher, **kw):
    execution = {
        "batch_size": 4,
        "micro_batch_size": 32,
        "device": "cpu",
        "progress": False,
        **kw.pop("execution", {}),
    }
    return AuditConfig(teacher=teacher, execution=execution, **kw)


def rows(store, *columns):
    cols = ", ".join(columns or ("sample_id", "context", "strategy", "logprob"))
    return (
        open_store(store)
        .query(f"SELECT {cols} FROM audits ORDER BY sample_id, context, strategy")
        .to_pylist()
    )


def test_every_context_of_every_sample_is_scored_once_and_a_rerun_resumes(store, random_teacher):
    first = run_audit(store, config(random_teacher))
    assert first.audited == N and not first.failed
    got = rows(
        store, "sample_id", "context", "strategy", "view_id", "config_hash", "teacher_id", "audit_hash"
    )
    per_sample = {}
    for r in got:
        per_sample.setdefault(r["sample_id"], []).append((r["context"], r["strategy"]))
    expected = sorted(
        [("crop_only", "crop"), ("full_image", None), ("positive", "crop"), ("text_only", None)]
        + [("negative", s) for s in STRATEGIES],
        key=str,
    )
    assert all(sorted(v, key=str) == expected for v in per_sample.values()) and len(per_sample) == N
    views = {r["view_id"] for r in open_store(store).query("SELECT view_id FROM views").to_pylist()}
    assert {r["view_id"] for r in got if r["view_id"]} <= views  # joinable on the view id
    assert {(r["teacher_id"], r["audit_hash"]) for r in got} == {(first.teacher.id, first.audit_hash)}
    again = run_audit(store, config(random_teacher))
    assert again.nothing_to_do and again.already_done == N
    assert len(rows(store)) == len(got)
    runs = open_store(store).query("SELECT status FROM runs WHERE config_hash = ?", [first.audit_hash])
    assert runs.column(0).to_pylist() == ["finished"]


def test_a_limit_then_the_rest(store, random_teacher):
    assert run_audit(store, config(random_teacher, execution={"limit": 2})).audited == 2
    assert run_audit(store, config(random_teacher)).audited == N - 2


def test_shards_together_give_the_rows_of_one_run(world, tmp_path, random_teacher):
    from vzero_data.pipeline.sharding import parse_shard

    one, split = (shutil.copytree(world, tmp_path / name) for name in ("one", "split"))
    run_audit(one, config(random_teacher))
    done = [run_audit(split, config(random_teacher), shard=parse_shard(f"{i}/2")).audited for i in range(2)]
    assert sum(done) == N and all(done)
    a, b = rows(one), rows(split)
    assert [r["sample_id"] for r in a] == [r["sample_id"] for r in b]
    assert [r["logprob"] for r in a] == pytest.approx([r["logprob"] for r in b], abs=1e-4)


def test_a_random_teacher_gives_no_gate_signal(store, random_teacher):
    outcome = run_audit(store, config(random_teacher))
    positives = [r for r in rows(store, "context", "flags") if r["context"] == "positive"]
    flagged = sum(NO_GATE_SIGNAL in r["flags"] for r in positives)
    assert flagged == len(positives) == N
    summary = summarize(open_store(store), outcome.teacher.id, outcome.audit_hash)
    assert summary["flags"][NO_GATE_SIGNAL] == N


def test_label_free_never_reads_a_label(store, random_teacher, monkeypatch):
    """Every samples row handed to the audit fails the test when its answer is read."""
    import vzero_data.store as store_api
    from tests.vzero_data.audit.test_reference import NoAnswer

    real = store_api.iter_raw_records

    def guarded(*args, **kwargs):
        for raw in real(*args, **kwargs):
            yield type(raw)(**{**raw.__dict__, "sample": NoAnswer(raw.sample)})

    monkeypatch.setattr(store_api, "iter_raw_records", guarded)
    outcome = run_audit(store, config(random_teacher, mode="label_free"))
    assert outcome.audited == N
    modes = {r["mode"] for r in rows(store, "mode")}
    assert modes == {"label_free"}
    # the reference is the teacher's own answer with the crop: correct there by construction
    positives = [r for r in rows(store, "context", "correct") if r["context"] == "positive"]
    assert all(r["correct"] for r in positives)


def test_rejected_negatives_are_rejects_and_audited_by_skips_them(store, random_teacher, tmp_path, capsys):
    outcome = run_audit(
        store, config(random_teacher, reject={"negatives": True}, thresholds={"min_gap": 100.0})
    )
    s = open_store(store)
    reasons = s.query(
        "SELECT reason, count(*) AS n FROM rejects WHERE stage = 'audit' GROUP BY 1"
    ).to_pylist()
    assert reasons == [{"reason": "negative_keeps_evidence", "n": N * len(STRATEGIES)}]
    capsys.readouterr()
    argv = [
        "export",
        str(store),
        "--format",
        "verl",
        "--out",
        str(tmp_path / "t.parquet"),
        "--negative-strategy",
        "masked",
    ]
    assert main([*argv, "--audited-by", outcome.teacher.id, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["written"] == 0 and summary["audit_rejected_negatives"] == {"masked": N, "shuffled": N}
    assert (
        main([*argv[:-4], "--out", str(tmp_path / "all.parquet"), "--negative-strategy", "masked", "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["written"] == N
    assert main(["stats", str(store)]) == 0
    out = capsys.readouterr().out
    assert f"samples audited by teacher: {outcome.teacher.id} (audit {outcome.audit_hash}): {N}" in out
    assert "audit/negative_keeps_evidence: 12" in out


def test_the_command_line_prints_the_table_and_writes_the_report(store, random_teacher, tmp_path, capsys):
    report = tmp_path / "report"
    argv = ["audit", str(store), "--teacher", random_teacher, "--device", "cpu", "--strategies", "masked"]
    assert main([*argv, "--report", str(report), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"audited {N} samples" in out and "| `masked` |" in out and "| `shuffled` |" not in out
    data = json.loads((report / "report.json").read_text())
    assert data["samples"] == N and set(data["strategies"]) == {"masked"}
    assert (report / "report.md").read_text().startswith("# Evidence audit")
    assert (report / "gaps.png").is_file()
    assert main(["audit", str(store), "--report-only", "--teacher", random_teacher, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["samples"] == N


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--teacher", "no/such/folder"], "audit.teacher: "),
        (["--teacher", "TEACHER", "--strategies", "nope"], "no valid negative views of strategy 'nope'"),
        (["--teacher", "TEACHER", "--config-hash", "0123"], "no views of config_hash '0123'"),
        (["--teacher", "TEACHER", "--batch-size", "0"], "audit.execution.batch_size"),
        (["--teacher", "TEACHER", "--shard", "2/2"], "shard 2/2"),
        (["--report-only", "--teacher", "nobody"], "no audit by teacher nobody"),
    ],
)
def test_user_errors_are_one_line_exit_2(store, random_teacher, capsys, extra, message):
    argv = ["audit", str(store), *(random_teacher if a == "TEACHER" else a for a in extra)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error: " in err[0] and message in err[0], err


def test_a_recipe_audit_section_runs_after_curation(world, tmp_path, random_teacher):
    from tests.audit_world import curation_recipe
    from vzero_data.pipeline import recipe_from_mapping
    from vzero_data.pipeline.runner import curate

    scenes = world.parent / "test"
    base = curation_recipe(scenes, negatives=[{"strategy": "masked"}]).model_dump(mode="json")
    audit = config(random_teacher, reject={"negatives": True}, thresholds={"min_gap": 100.0}).model_dump(
        mode="json"
    )
    recipe = recipe_from_mapping({**base, "audit": audit})
    outcome = curate(recipe, tmp_path / "store")
    assert outcome.audit is not None and outcome.audit.audited == N
    assert outcome.audit.config_hash == outcome.summary.config_hash
    again = curate(recipe, tmp_path / "store")
    assert again.nothing_to_do and again.audit.nothing_to_do
    s = open_store(tmp_path / "store")
    assert (
        s.query("SELECT count(*) FROM rejects WHERE reason = 'negative_keeps_evidence'").column(0)[0].as_py()
        == N
    )


def test_open_questions_are_scored_on_their_answer_or_the_teachers_own(tmp_path, random_teacher):
    """No options: labelled scores the label, label-free the teacher's greedy answer with the crop."""
    from PIL import Image

    from tests.store_builder import add_sample, png
    from vzero_core.image_io import encode_image

    store = open_store(tmp_path / "store", create=True)
    with store.writer("run", "cfg") as w:
        for i, answer in enumerate(["a red star", None]):
            sid = f"open-{i}"
            add_sample(
                w, sid, png(("red", "blue")[i], (96, 96)), question="What is in the corner?", answer=answer
            )
            crop = encode_image(Image.new("RGB", (32, 32), "red"))
            w.add_view(sid, {"kind": "positive", "strategy": "crop", "image_bytes": crop})
            w.add_view(sid, {"kind": "negative", "strategy": "masked", "image_bytes": png("gray", (32, 32))})
            w.commit_sample(sid)
    outcome = run_audit(store.root, config(random_teacher, max_new_tokens=4))
    assert outcome.audited == 2 and not outcome.failed
    got = {
        r["sample_id"]: r
        for r in rows(store.root, "sample_id", "context", "mode", "candidates", "correct")
        if r["context"] == "positive"
    }
    assert got["open-0"]["mode"] == "labelled" and got["open-0"]["candidates"] == ["a red star"]
    assert got["open-1"]["mode"] == "label_free" and len(got["open-1"]["candidates"]) == 1
    assert got["open-0"]["correct"] is None and got["open-1"]["correct"] is None
