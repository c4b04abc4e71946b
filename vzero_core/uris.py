"""Remote locations: which strings name one (``https://``, ``s3://``, ``hf://`` ...) and how to show
one without its credentials.

A source file is untrusted, so the schemes a row may name are an allow-list: web URLs and the
object stores fsspec reaches. ``file://``, fsspec's local and caching protocols and chained URLs
(``a::b``) are refused, since they would read this machine's files around the image root's checks.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

HTTP_SCHEMES = ("http", "https")
# fsspec protocols of object stores and hubs (the backends install with the ``remote`` extra;
# ``memory`` is fsspec's in-process store, for tests and notebooks).
OBJECT_SCHEMES = ("s3", "s3a", "gs", "gcs", "hf", "az", "abfs", "abfss", "memory")
REMOTE_SCHEMES = HTTP_SCHEMES + OBJECT_SCHEMES

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)(?:://|::)")  # "a::b" is a chained fsspec URL


class UriError(ValueError):
    """A location naming a scheme vzero does not read from."""


def uri_scheme(text: str) -> str | None:
    """The lower-case scheme of ``text`` when it is written ``scheme://...``, else None (a path)."""
    match = _SCHEME.match(text) if isinstance(text, str) else None
    return match.group(1).lower() if match else None


def is_uri(text: object) -> bool:
    """Whether ``text`` is written as a URI (``scheme://...``) rather than a local path."""
    return isinstance(text, str) and uri_scheme(text) is not None


def check_remote(uri: str) -> str:
    """``uri`` if vzero reads from its scheme; a :class:`UriError` naming the problem otherwise."""
    scheme = uri_scheme(uri)
    if scheme is None:
        raise UriError(f"{uri!r} is not a URI")
    if "::" in uri:
        raise UriError(f"{redact(uri)}: chained URLs (a::b) are not read")
    if scheme not in REMOTE_SCHEMES:
        raise UriError(
            f"{redact(uri)}: scheme {scheme!r} is not read (known: {', '.join(REMOTE_SCHEMES)}); "
            "local files are named by a path under the image root"
        )
    return uri


def redact(uri: str) -> str:
    """``uri`` with any ``user:password@`` removed, for messages and stored references."""
    if not is_uri(uri):
        return uri
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def join_uri(base: str, relpath: str) -> str:
    """``relpath`` (a path from a source file) under the remote folder ``base``; a path that is
    absolute, climbs with ``..`` or is itself a URI is refused, as under a local image root."""
    parts = relpath.replace("\\", "/").split("/")
    if not relpath or relpath.startswith(("/", "\\")) or is_uri(relpath) or ".." in parts:
        raise UriError(
            f"image path {relpath!r} must be relative to the image root {redact(base)}, without '..'"
        )
    return base.rstrip("/") + "/" + "/".join(p for p in parts if p not in ("", "."))
