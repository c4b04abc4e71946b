"""Fetching remote images through fsspec, without a network: ``memory://`` and a stand-in file
system registered as ``hf://`` (the real HfFileSystem needs the hub; this covers vzero's side of
fsspec's interface, which is the same for every backend). The loopback HTTP and S3 servers are in
``test_fetch_faults.py`` and ``tests/vzero_data/store/test_s3_roundtrip.py``."""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter

import fsspec
import pytest
from fsspec.spec import AbstractFileSystem

from tests.vzero_data.sources.conftest import png_bytes
from vzero_core.rows import Rejected
from vzero_data.sources import SourceOptions, build_items, get_source
from vzero_data.sources.build import SourceItem
from vzero_data.sources.fetch import FetchPolicy, ImageFetcher

IMAGE = png_bytes()


class _Short(io.BytesIO):
    """A file that declares more bytes than it holds (a body cut short)."""

    size = len(IMAGE) + 10


class StandInHub(AbstractFileSystem):
    """``hf://`` for tests: files in a dict, faults planned per path and attempt, peak concurrency."""

    protocol = "hf"
    cachable = False
    files: dict[str, bytes] = {}
    faults: dict[str, list] = {}
    calls: Counter = Counter()
    delay_s = 0.0
    active = 0
    peak = 0
    lock = threading.Lock()

    @classmethod
    def _strip_protocol(cls, path):
        return "/" + super()._strip_protocol(path).lstrip("/")

    def _open(self, path, mode="rb", **kwargs):
        path = self._strip_protocol(path)
        cls = type(self)
        with cls.lock:
            cls.calls[path] += 1
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        try:
            time.sleep(cls.delay_s)
            plan = cls.faults.get(path) or []
            action = plan.pop(0) if plan else None
            if isinstance(action, BaseException):
                raise action
            if path not in cls.files:
                raise FileNotFoundError(path)
            if action == "short":
                return _Short(cls.files[path][: len(IMAGE) // 2])
            buf = io.BytesIO(cls.files[path])
            buf.size = len(cls.files[path])
            return buf
        finally:
            with cls.lock:
                cls.active -= 1


@pytest.fixture
def hub(monkeypatch):
    import importlib

    monkeypatch.setitem(importlib.import_module("fsspec.registry")._registry, "hf", StandInHub)
    StandInHub.files, StandInHub.faults, StandInHub.calls = {}, {}, Counter()
    StandInHub.delay_s, StandInHub.active, StandInHub.peak = 0.0, 0, 0
    return StandInHub


def policy(tmp_path, **kw) -> FetchPolicy:
    return FetchPolicy(cache_dir=str(tmp_path / "cache"), backoff_s=0.0, **kw)


def test_memory_uri_is_fetched_once_then_read_from_the_cache(tmp_path):
    fsspec.filesystem("memory").pipe_file("/fetch-test/a.png", IMAGE)
    first = ImageFetcher(policy(tmp_path))
    assert first.fetch("memory://fetch-test/a.png").data == IMAGE
    assert first.attempts == 1
    again = ImageFetcher(policy(tmp_path))  # a resumed run: a new fetcher, the same cache
    assert again.fetch("memory://fetch-test/a.png").data == IMAGE
    assert again.attempts == 0


def test_a_damaged_cache_entry_is_fetched_again(tmp_path):
    fsspec.filesystem("memory").pipe_file("/fetch-test/b.png", IMAGE)
    ImageFetcher(policy(tmp_path)).fetch("memory://fetch-test/b.png")
    (blob,) = [p for p in (tmp_path / "cache" / "blobs").rglob("*") if p.is_file()]
    blob.write_bytes(b"garbage")
    again = ImageFetcher(policy(tmp_path))
    assert again.fetch("memory://fetch-test/b.png").data == IMAGE
    assert again.attempts == 1


# (fault planned per attempt, retries, expected error or None, attempts)
FSSPEC_FAULTS = [
    ([], 2, None, 1),
    ([ConnectionError("reset")], 2, None, 2),
    ([TimeoutError("slow"), TimeoutError("slow")], 2, None, 3),
    ([TimeoutError("slow")] * 3, 2, "TimeoutError: slow (3 attempts)", 3),
    (["short"], 2, None, 2),
    (["short"] * 3, 2, f"truncated body: {len(IMAGE) // 2} of {len(IMAGE) + 10} bytes (3 attempts)", 3),
    ([PermissionError("denied")], 2, "access denied (denied) (1 attempt)", 1),
    ([ValueError("backend bug")], 2, "ValueError: backend bug (1 attempt)", 1),
    ([ConnectionError("reset")], 0, "ConnectionError: reset (1 attempt)", 1),
]


@pytest.mark.parametrize(("plan", "retries", "error", "attempts"), FSSPEC_FAULTS)
def test_transient_failures_are_retried_and_others_are_not(hub, tmp_path, plan, retries, error, attempts):
    hub.files["/datasets/org/set/a.png"] = IMAGE
    hub.faults["/datasets/org/set/a.png"] = list(plan)
    got = ImageFetcher(policy(tmp_path, retries=retries)).fetch("hf://datasets/org/set/a.png")
    assert got.error == error
    assert got.data == (IMAGE if error is None else None)
    assert got.attempts == attempts == hub.calls["/datasets/org/set/a.png"]


def test_a_missing_object_is_not_retried(hub, tmp_path):
    got = ImageFetcher(policy(tmp_path, retries=5)).fetch("hf://datasets/org/set/none.png")
    assert (got.error, got.attempts) == ("not found (1 attempt)", 1)


def test_backoff_doubles_is_capped_and_honours_retry_after(tmp_path):
    f = ImageFetcher(FetchPolicy(backoff_s=1.0, max_backoff_s=5.0, cache_dir=str(tmp_path)))
    assert 0.5 <= f._backoff(1, None) <= 1.0
    assert 2.0 <= f._backoff(3, None) <= 4.0
    assert f._backoff(10, None) <= 5.0
    assert f._backoff(1, 3.0) == 3.0  # Retry-After wins over a shorter backoff
    assert f._backoff(1, 60.0) == 5.0  # ... up to the cap


def test_retries_wait_out_the_backoff(hub, tmp_path):
    waits = []
    hub.files["/d/a.png"] = IMAGE
    hub.faults["/d/a.png"] = [ConnectionError("x"), ConnectionError("x")]
    fetcher = ImageFetcher(FetchPolicy(backoff_s=0.2, cache_dir=str(tmp_path)), sleep=waits.append)
    assert fetcher.fetch("hf://d/a.png").data == IMAGE
    assert len(waits) == 2 and 0.1 <= waits[0] <= 0.2 and 0.2 <= waits[1] <= 0.4


def rows_file(tmp_path, images: list[str]) -> str:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        "".join(json.dumps({"image": im, "question": f"q{i}?"}) + "\n" for i, im in enumerate(images))
    )
    return str(path)


def build(src: str, fetch: FetchPolicy, **options) -> list:
    source = get_source("jsonl")
    opts = SourceOptions(**options)
    from vzero_data.sources.base import default_root

    root = default_root(src, opts, source)
    return list(build_items(source.read(src, opts), root, max_pixels=10**8, fetch=fetch))


def test_fetches_run_concurrently_within_the_bound_and_keep_source_order(hub, tmp_path):
    hub.delay_s = 0.05
    names = [f"/d/{i}.png" for i in range(12)]
    for i, name in enumerate(names):
        hub.files[name] = png_bytes(color=(i * 20, 0, 0))
    items = build(rows_file(tmp_path, [f"hf:/{n}" for n in names]), policy(tmp_path, concurrency=3))
    assert [i.sample.question for i in items] == [f"q{i}?" for i in range(12)]
    assert [i.sample.image for i in items] == [f"hf:/{n}" for n in names]
    assert 1 < hub.peak <= 3


def test_one_url_named_by_many_rows_is_fetched_once(hub, tmp_path):
    hub.delay_s = 0.05
    hub.files["/d/shared.png"] = IMAGE
    items = build(rows_file(tmp_path, ["hf://d/shared.png"] * 5), policy(tmp_path))
    assert all(isinstance(i, SourceItem) for i in items) and len(items) == 5
    assert hub.calls["/d/shared.png"] == 1


@pytest.mark.parametrize(
    ("image", "reason", "detail"),
    [
        ("hf://d/gone.png", "image_unreachable", "cannot fetch hf://d/gone.png: not found (1 attempt)"),
        ("file:///etc/passwd", "bad_field", "scheme 'file' is not read"),
        ("simplecache::hf://d/a.png", "bad_field", "chained URLs"),
        (
            "https://user:pw@127.0.0.1:9/a.png",
            "image_unreachable",
            "cannot fetch https://***@127.0.0.1:9/a.png",
        ),
    ],
)
def test_unfetchable_images_are_located_rejects(hub, tmp_path, image, reason, detail):
    (item,) = build(rows_file(tmp_path, [image]), policy(tmp_path, retries=0, timeout_s=2))
    assert isinstance(item, Rejected)
    assert item.reason == reason
    assert detail in item.detail and item.detail.startswith(f"{tmp_path}/rows.jsonl:1: ")
    assert "pw" not in item.detail


@pytest.mark.parametrize(
    ("path", "kept"),
    [("images/a.png", True), ("./images/a.png", True), ("../a.png", False), ("/images/a.png", False)],
)
def test_paths_under_a_remote_image_root(hub, tmp_path, path, kept):
    hub.files["/pool/images/a.png"] = IMAGE
    hub.files["/a.png"] = IMAGE
    (item,) = build(rows_file(tmp_path, [path]), policy(tmp_path), image_root="hf://pool")
    if kept:
        assert isinstance(item, SourceItem)
        assert item.sample.image == path  # the reference stays relative to the root, as locally
    else:
        assert isinstance(item, Rejected) and item.reason == "image_outside_root"
        assert hub.calls == Counter()


def test_a_local_source_starts_no_fetch_thread(tmp_path):
    (tmp_path / "a.png").write_bytes(IMAGE)
    before = {t.name for t in threading.enumerate()}
    items = build(rows_file(tmp_path, ["a.png"]), policy(tmp_path))
    assert isinstance(items[0], SourceItem)
    assert not any(t.name.startswith("vzero-fetch") for t in threading.enumerate() if t.name not in before)
