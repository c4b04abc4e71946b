"""The fault table: a source whose image fields are URLs on a loopback HTTP server with injected
faults (``tests/http_faults.py``), ingested into a store; each fault and what the run recorded.

Policy of the run: 0.5 s per attempt, 2 retries (3 attempts at most), no backoff wait worth the
name. A refused connection is a port nothing listens on.
"""

from __future__ import annotations

import base64
import json
import socket

import pytest

from tests.http_faults import FAULTS, FaultServer
from tests.vzero_data.sources.conftest import png_bytes
from vzero_core.uris import redact
from vzero_data.ingest import ingest
from vzero_data.sources.fetch import FetchPolicy
from vzero_data.store import open_store

pytestmark = pytest.mark.e2e

IMAGE = png_bytes((48, 32))
POLICY = dict(timeout_s=0.5, retries=2, backoff_s=0.01, concurrency=4)
REFUSED = "refused"
WITH_CREDENTIALS = "/img/with-credentials.png"

# path: (what the run recorded: "kept" or the reject reason, detail it gives, requests the server saw)
FAULT_TABLE = {
    "/img/plain.png": ("kept", None, 1),
    "/missing.png": ("image_unreachable", "HTTP 404 Not Found (1 attempt)", 1),
    "/forbidden.png": ("image_unreachable", "HTTP 403 Forbidden (1 attempt)", 1),
    "/flaky.png": ("kept", None, 2),
    "/down.png": ("image_unreachable", "HTTP 503 Service Unavailable (3 attempts)", 3),
    "/ratelimited.png": ("kept", None, 2),
    "/slow.png": ("image_unreachable", "timed out after 0.5 s (3 attempts)", 3),
    "/slow-once.png": ("kept", None, 2),
    "/truncated.png": ("image_unreachable", "truncated body", 3),
    "/truncated-once.png": ("kept", None, 2),
    "/redirect.png": ("kept", None, 1),
    "/not-an-image.png": ("image_unreadable", "not a readable image", 1),
    WITH_CREDENTIALS: ("kept", None, 1),
    REFUSED: ("image_unreachable", "connection failed", None),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def faulted_run(tmp_path_factory):
    """One ingest over every fault, then the same ingest again (a resume)."""
    tmp = tmp_path_factory.mktemp("faults")
    with FaultServer(IMAGE, slow_s=1.5) as srv:
        port = free_port()
        urls = {p: srv.url(p) if p != REFUSED else f"http://127.0.0.1:{port}/x.png" for p in FAULT_TABLE}
        urls[WITH_CREDENTIALS] = urls[WITH_CREDENTIALS].replace("http://", "http://user:s3cret@")
        rows = tmp / "rows.jsonl"
        rows.write_text(
            "".join(json.dumps({"image": u, "question": f"what is at {p}?"}) + "\n" for p, u in urls.items())
        )
        policy = FetchPolicy(cache_dir=str(tmp / "cache"), **POLICY)
        first = ingest(str(rows), "jsonl", tmp / "store", progress=False, fetch=policy)
        hits_first = dict(srv.hits)
        second = ingest(str(rows), "jsonl", tmp / "store", progress=False, fetch=policy)
        hits_second = dict(srv.hits)
        with_credentials_seen = srv.auth.get(WITH_CREDENTIALS)
    store = open_store(tmp / "store")
    store_text = "".join(
        store.query(f"SELECT * FROM {t}").to_pandas().astype(str).to_csv()
        for t in ("samples", "rejects", "runs")
    )
    rejects = {r["sample_id"]: r for r in store.query("SELECT * FROM rejects").to_pylist()}
    kept = {r["image"] for r in store.query("SELECT image FROM samples").to_pylist()}
    lines = {p: f"{rows}:{i + 1}" for i, p in enumerate(FAULT_TABLE)}
    return dict(
        first=first, second=second, hits=hits_first, hits_after_resume=hits_second, urls=urls,
        rejects=rejects, kept=kept, lines=lines, with_credentials_seen=with_credentials_seen,
        store_text=store_text,
    )  # fmt: skip


def test_every_fault_the_server_injects_is_in_the_table():
    assert set(FAULTS) <= set(FAULT_TABLE)


@pytest.mark.parametrize("path", list(FAULT_TABLE))
def test_what_the_run_recorded_for_each_fault(faulted_run, path):
    outcome, detail, requests = FAULT_TABLE[path]
    url = faulted_run["urls"][path]
    reject = faulted_run["rejects"].get(faulted_run["lines"][path])
    if outcome == "kept":
        assert reject is None
        assert redact(url) in faulted_run["kept"]
    else:
        assert reject is not None, f"{path}: no reject recorded"
        assert (reject["stage"], reject["reason"]) == ("ingest", outcome)
        assert detail in reject["detail"]
        assert url.split("//", 1)[1] in reject["detail"] or outcome == "image_unreadable"
    if requests is not None:
        assert faulted_run["hits"][path] == requests


def test_credentials_in_a_url_are_used_but_never_stored(faulted_run):
    assert faulted_run["with_credentials_seen"] == "Basic " + base64.b64encode(b"user:s3cret").decode()
    assert faulted_run["store_text"].count("s3cret") == 0
    assert "http://***@127.0.0.1" in faulted_run["store_text"]


def test_a_redirect_is_followed_to_the_image(faulted_run):
    assert faulted_run["hits"]["/img/redirected.png"] == 1


def test_the_run_counts_match_the_table(faulted_run):
    first = faulted_run["first"]
    table = list(FAULT_TABLE.values())
    assert first.ingested == sum(o == "kept" for o, _, _ in table)
    assert dict(first.rejected) == {
        "image_unreachable": sum(o == "image_unreachable" for o, _, _ in table),
        "image_unreadable": 1,
    }


def test_a_resume_fetches_no_image_twice(faulted_run):
    """Fetched images come from the cache on the resume; only the rows that failed are asked again."""
    second, hits, again = faulted_run["second"], faulted_run["hits"], faulted_run["hits_after_resume"]
    assert second.ingested == 0
    assert second.skipped_done == faulted_run["first"].ingested
    for path, (outcome, _, _) in FAULT_TABLE.items():
        if outcome == "kept" or outcome == "image_unreadable":
            assert again.get(path) == hits.get(path), f"{path} was fetched again"
    assert again["/missing.png"] == hits["/missing.png"] + 1  # a failure is tried again
    assert dict(second.rejected) == dict(faulted_run["first"].rejected)


def test_print_the_fault_table(faulted_run):
    """The table as the run recorded it (``pytest -s`` shows it)."""
    print("\n| fault | what the server does | recorded | detail | requests |\n|---|---|---|---|---|")
    for path in FAULT_TABLE:
        reject = faulted_run["rejects"].get(faulted_run["lines"][path])
        detail = reject["detail"].split(": ", 1)[1] if reject else "-"
        recorded = f"{reject['stage']}/{reject['reason']}" if reject else "kept"
        what = FAULTS.get(path, "a port nothing listens on" if path == REFUSED else "the image")
        print(f"| `{path}` | {what} | {recorded} | {detail} | {faulted_run['hits'].get(path, '-')} |")
