"""The S3 round trip against a real S3-compatible server on loopback (moto in server mode): a pool
of images in a bucket is curated through ``source.image_root: s3://...``, the store is synced to
another bucket, and ``stats``, ``export``, ``vzero-train train`` and ``vzero-train eval --format
store`` read it from there, each in its own process with credentials from the environment only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from vzero_data.synth import MANIFEST_NAME, write_scenes

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[3]
POOL, STORES = "vzero-pool", "vzero-stores"
STORE_URI = f"s3://{STORES}/runs/demo"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server on a free loopback port; the environment a client needs to reach it."""
    boto3 = pytest.importorskip("boto3")
    moto_server = pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "VZERO_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    client = boto3.client("s3")
    for bucket in (POOL, STORES):
        client.create_bucket(Bucket=bucket)
    yield client, env
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    server.stop()


def cli(prog: str, *args: str, env: dict, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", f"{prog}.cli", *args],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"{prog} {args[0]} failed:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def round_trip(s3, tmp_path_factory):
    client, env = s3
    work = tmp_path_factory.mktemp("roundtrip")
    write_scenes(work / "synth", 6, size=256, seed=5, progress=False)
    for image in sorted((work / "synth" / "images").iterdir()):
        client.put_object(Bucket=POOL, Key=f"pool/images/{image.name}", Body=image.read_bytes())
    rows = [json.loads(line) for line in (work / "synth" / MANIFEST_NAME).read_text().splitlines()]
    rows.append({**rows[0], "image": "images/not-in-the-bucket.png", "question": "Where did it go?"})
    (work / "rows").mkdir()
    (work / "rows" / MANIFEST_NAME).write_text("".join(json.dumps(r) + "\n" for r in rows))
    shutil.rmtree(work / "synth")  # the images live in the bucket only
    curate = [
        "curate", "demo", "--out", "store", "--no-progress",
        "--set", "source.path=rows",
        "--set", f"source.image_root=s3://{POOL}/pool",
        "--set", "source.synthesize=null",
        "--set", "negatives=[{strategy: downsampled_distractor}, {strategy: masked}]",
        "--set", "execution.workers=0",
    ]  # fmt: skip
    out = {"curate": cli("vzero_data", *curate, env=env, cwd=work)}
    out["sync"] = cli("vzero_data", "sync", "store", STORE_URI, "--json", env=env, cwd=work)
    out["resync"] = cli("vzero_data", "sync", "store", STORE_URI, "--json", env=env, cwd=work)
    return work, env, out


def test_the_pool_is_curated_from_the_bucket(round_trip):
    work, env, out = round_trip
    stats = json.loads(cli("vzero_data", "stats", "store", "--json", env=env, cwd=work))
    assert stats["samples_by_source"] == {"synthetic": 6}
    assert stats["rejects_by_reason"] == {"ingest/image_unreachable": 1}
    (detail,) = [
        r["detail"]
        for r in json.loads(
            "[" + ",".join(cli("vzero_data", "query", "store", "SELECT detail FROM rejects", "--format", "json", env=env, cwd=work).splitlines()) + "]"
        )
    ]  # fmt: skip
    assert f"cannot fetch s3://{POOL}/pool/images/not-in-the-bucket.png: not found (1 attempt)" in detail


def test_sync_copies_once_and_a_rerun_copies_nothing(round_trip):
    _, _, out = round_trip
    first, again = json.loads(out["sync"]), json.loads(out["resync"])
    assert first["copied"] == first["files"] > 0
    assert again["copied"] == 0 and again["already_there"] == first["files"]


def test_stats_read_from_s3_equal_the_local_ones(round_trip):
    work, env, _ = round_trip
    local = json.loads(cli("vzero_data", "stats", "store", "--json", env=env, cwd=work))
    remote = json.loads(cli("vzero_data", "stats", STORE_URI, "--json", env=env, cwd=work))
    assert remote.pop("store") == STORE_URI
    local.pop("store")
    assert remote == local


def test_export_from_s3_equals_the_local_export(round_trip):
    work, env, _ = round_trip
    args = ["--format", "verl", "--negative-strategy", "downsampled_distractor"]
    cli("vzero_data", "export", "store", *args, "--out", "local.parquet", env=env, cwd=work)
    cli("vzero_data", "export", STORE_URI, *args, "--out", "remote.parquet", env=env, cwd=work)
    local, remote = pq.read_table(work / "local.parquet"), pq.read_table(work / "remote.parquet")
    assert remote.num_rows == 6 and remote.equals(local)


def test_verify_reads_every_published_file(round_trip):
    work, env, _ = round_trip
    assert "no damage found" in cli("vzero_data", "verify", STORE_URI, env=env, cwd=work)


def test_train_and_eval_read_the_store_from_s3(round_trip):
    work, env, _ = round_trip
    train = [
        "train", "demo", "--store", STORE_URI, "--steps", "1", "--output-dir", "run", "--no-progress",
        "--set", "validation.data=null", "--set", "save_every=1", "--set", "prompts_per_step=2",
        "--set", "rollout.group_size=2", "--set", "micro_batch_size=2",
    ]  # fmt: skip
    cli("vzero_train", *train, env=env, cwd=work)
    metrics = [json.loads(line) for line in (work / "run" / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["step"] == 1
    evaluate = [
        "eval", "--model", "run/checkpoints/step_1", "--data", STORE_URI, "--format", "store",
        "--out", "eval", "--limit", "3", "--max-new-tokens", "4", "--no-progress",
    ]  # fmt: skip
    cli("vzero_train", *evaluate, env=env, cwd=work)
    results = json.loads((work / "eval" / "results.json").read_text())
    assert json.dumps(results).count(STORE_URI) >= 1
