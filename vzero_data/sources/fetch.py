"""Fetching images named by URL (``http(s)://``) or fsspec URI (``s3://``, ``gs://``, ``hf://``,
``memory://`` ...): bounded concurrency, a deadline per attempt, retries with backoff on transient
errors only, a cache by URL and content hash, and failures returned as a reason, never raised.

Transient: a connection that fails or drops, a timeout, a body shorter than its declared length,
HTTP 408, 429 and 5xx (``Retry-After`` is honoured up to ``max_backoff_s``). Anything else (HTTP
4xx, a missing object, denied access) fails at once. Credentials come from where each backend
looks by itself (the environment, ``~/.netrc``, ``~/.aws``, gcloud's config, the Hugging Face
token), never from a recipe or a store.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import Field

from vzero_core.recipe_base import Section
from vzero_core.uris import HTTP_SCHEMES, redact, uri_scheme
from vzero_data.sources.image_cache import ImageCache

T = TypeVar("T")
_INCOMPLETE = re.compile(r"IncompleteRead\((\d+) bytes read, (\d+) more expected\)")
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\"()]+")
RETRY_STATUS = frozenset({408, 429})
CHUNK_BYTES = 1 << 16
MAX_REDIRECTS = 5


class FetchPolicy(Section):
    """How remote images are fetched (``execution.fetch`` in a recipe, ``--fetch-*`` in ingest);
    none of it changes what a sample is, only how fast and how patiently it is fetched."""

    concurrency: int = Field(8, ge=1, le=256, description="fetches in flight at once")
    timeout_s: float = Field(30.0, gt=0, description="deadline of one attempt, connect to last byte")
    retries: int = Field(3, ge=0, le=20, description="further attempts after a transient failure")
    backoff_s: float = Field(0.5, ge=0, description="first wait between attempts; doubles each time")
    max_backoff_s: float = Field(30.0, ge=0, description="longest wait between attempts")
    cache_dir: str | None = Field(None, description="image cache (default: ~/.cache/vzero/images)")


class FetchFailed(Exception):
    """One failed attempt; ``transient`` ones are tried again."""

    def __init__(self, detail: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.transient = transient
        self.retry_after = retry_after


@dataclass(frozen=True)
class Fetched:
    """The bytes a URI served, or why there are none; ``attempts`` 0 means it came from the cache."""

    uri: str
    data: bytes | None
    error: str | None = None
    attempts: int = 0


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _http_get(session: Any, url: str, timeout_s: float) -> bytes:
    import requests

    deadline = time.monotonic() + timeout_s
    try:
        with session.get(url, stream=True, timeout=(timeout_s, timeout_s)) as resp:
            if resp.status_code >= 400:
                transient = resp.status_code in RETRY_STATUS or resp.status_code >= 500
                raise FetchFailed(
                    f"HTTP {resp.status_code} {resp.reason or ''}".rstrip(),
                    transient=transient,
                    retry_after=_retry_after(resp.headers.get("Retry-After")),
                )
            declared = None if resp.headers.get("Content-Encoding") else resp.headers.get("Content-Length")
            chunks, got = [], 0
            for chunk in resp.iter_content(CHUNK_BYTES):
                chunks.append(chunk)
                got += len(chunk)
                if time.monotonic() > deadline:
                    raise FetchFailed(
                        f"timed out after {timeout_s:g} s ({got} bytes received)", transient=True
                    )
    except requests.exceptions.Timeout:
        raise FetchFailed(f"timed out after {timeout_s:g} s", transient=True) from None
    except requests.exceptions.ChunkedEncodingError as exc:  # urllib3 saw fewer bytes than declared
        short = _INCOMPLETE.search(str(exc))
        got = f": {short[1]} of {int(short[1]) + int(short[2])} bytes" if short else f" ({_first_line(exc)})"
        raise FetchFailed(f"truncated body{got}", transient=True) from None
    except requests.exceptions.TooManyRedirects:
        raise FetchFailed(f"more than {MAX_REDIRECTS} redirects", transient=False) from None
    except requests.exceptions.ConnectionError as exc:
        errno = _ERRNO.search(str(exc))
        raise FetchFailed(
            f"connection failed ({errno[0] if errno else _first_line(exc)})", transient=True
        ) from None
    except requests.exceptions.RequestException as exc:
        raise FetchFailed(f"{type(exc).__name__}: {_first_line(exc)}", transient=False) from None
    data = b"".join(chunks)
    if declared is not None and declared.isdigit() and len(data) != int(declared):
        raise FetchFailed(f"truncated body: {len(data)} of {declared} bytes", transient=True)
    return data


def _fsspec_get(uri: str) -> bytes:
    from fsspec.core import url_to_fs

    try:
        fs, path = url_to_fs(uri)
    except ImportError as exc:
        raise FetchFailed(
            f"no fsspec backend for {uri_scheme(uri)}:// ({exc}); install it, e.g. pip install 'vzero[remote]'",
            transient=False,
        ) from None
    try:
        with fs.open(path, "rb") as fh:
            size = getattr(fh, "size", None)
            data = fh.read()
    except FileNotFoundError:
        raise FetchFailed("not found", transient=False) from None
    except PermissionError as exc:
        raise FetchFailed(f"access denied ({_first_line(exc)})", transient=False) from None
    except (OSError, TimeoutError, ConnectionError) as exc:
        raise FetchFailed(f"{type(exc).__name__}: {_first_line(exc)}", transient=True) from None
    except Exception as exc:  # a backend's own error type: reported, not retried
        raise FetchFailed(f"{type(exc).__name__}: {_first_line(exc)}", transient=False) from None
    if size is not None and len(data) != size:
        raise FetchFailed(f"truncated body: {len(data)} of {size} bytes", transient=True)
    return data


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


class ImageFetcher:
    """Fetches URIs on a bounded thread pool (``submit``) or inline (``fetch``); see the module
    docstring. The same URI asked for again while in flight shares one fetch. ``sleep`` is
    injectable so tests need not wait out the backoff."""

    def __init__(self, policy: FetchPolicy | None = None, *, sleep: Callable[[float], None] = time.sleep):
        self.policy = policy or FetchPolicy()
        self.cache = ImageCache(self.policy.cache_dir)
        self._sleep = sleep
        self._local = threading.local()
        self._lock = threading.Lock()
        self._inflight: dict[str, Future[Fetched]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self.attempts = 0  # network attempts made (cache hits make none)

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = self._local.session = requests.Session()
            session.max_redirects = MAX_REDIRECTS
        return session

    def _attempt(self, uri: str) -> bytes:
        with self._lock:
            self.attempts += 1
        if uri_scheme(uri) in HTTP_SCHEMES:
            return _http_get(self._session(), uri, self.policy.timeout_s)
        return _fsspec_get(uri)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        p = self.policy
        wait = min(p.max_backoff_s, p.backoff_s * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        return min(p.max_backoff_s, max(wait, retry_after or 0.0))

    def fetch(self, uri: str) -> Fetched:
        """The bytes at ``uri`` (from the cache when it served them before), or the reason why not."""
        cached = self.cache.get(uri)
        if cached is not None:
            return Fetched(uri, cached)
        attempt = 0
        while True:
            attempt += 1
            try:
                data = self._attempt(uri)
            except FetchFailed as exc:
                if not exc.transient or attempt > self.policy.retries:
                    tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                    return Fetched(uri, None, f"{exc.detail} ({tries})", attempt)
                self._sleep(self._backoff(attempt, exc.retry_after))
                continue
            self.cache.put(uri, data)
            return Fetched(uri, data, None, attempt)

    def submit(self, uri: str) -> Future[Fetched]:
        """``fetch(uri)`` on the pool (at most ``policy.concurrency`` at once)."""
        with self._lock:
            future = self._inflight.get(uri)
            if future is not None:
                return future
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.policy.concurrency, thread_name_prefix="vzero-fetch")
            future = self._pool.submit(self.fetch, uri)
            self._inflight[uri] = future
        future.add_done_callback(lambda _f: self._forget(uri))
        return future

    def _forget(self, uri: str) -> None:
        with self._lock:
            self._inflight.pop(uri, None)

    def close(self) -> None:
        """Stop the pool; fetches not started are cancelled."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def prefetched(
    items: Iterable[T], location: Callable[[T], str | None], fetcher: ImageFetcher, window: int
) -> Iterator[tuple[T, Future[Fetched] | None]]:
    """``items`` in order, each with the fetch of its remote image started up to ``window`` items
    ahead (None for an item with no remote image), so at most ``window`` fetched images wait in memory."""
    ahead: deque[tuple[T, Future[Fetched] | None]] = deque()
    for item in items:
        uri = location(item)
        ahead.append((item, fetcher.submit(uri) if uri is not None else None))
        if len(ahead) >= window:
            yield ahead.popleft()
    while ahead:
        yield ahead.popleft()


def describe(fetched: Fetched) -> str:
    """``fetched``'s failure, with the URI shown without credentials."""
    return f"cannot fetch {redact(fetched.uri)}: {fetched.error}"
