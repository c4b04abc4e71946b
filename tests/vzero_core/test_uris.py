import pytest

from vzero_core.uris import UriError, check_remote, is_uri, join_uri, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://example.org/a.png", True),
        ("s3://bucket/key.png", True),
        ("memory://pool/a.png", True),
        ("images/a.png", False),
        ("/abs/a.png", False),
        ("C:\\images\\a.png", False),
        ("sha256:abcd", False),
    ],
)
def test_is_uri(text, expected):
    assert is_uri(text) is expected


@pytest.mark.parametrize(
    "uri",
    [
        "http://h/a.png",
        "https://h/a.png",
        "s3://b/a.png",
        "gs://b/a.png",
        "hf://datasets/o/n/a.png",
        "memory://p/a",
    ],
)
def test_remote_schemes_are_read(uri):
    assert check_remote(uri) == uri


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("file:///etc/passwd", "scheme 'file' is not read"),
        ("local:///etc/passwd", "scheme 'local' is not read"),
        ("ftp://h/a.png", "scheme 'ftp' is not read"),
        ("simplecache::s3://b/a.png", "chained URLs"),
        ("zip://a.png::s3://b/x.zip", "chained URLs"),
    ],
)
def test_other_schemes_are_refused(uri, message):
    with pytest.raises(UriError, match=message):
        check_remote(uri)


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("https://user:secret@host/a.png?x=1", "https://***@host/a.png?x=1"),
        ("https://token@host/a.png", "https://***@host/a.png"),
        ("https://host/a.png", "https://host/a.png"),
        ("images/a.png", "images/a.png"),
    ],
)
def test_redact_hides_credentials(uri, shown):
    assert redact(uri) == shown


@pytest.mark.parametrize(
    ("base", "rel", "joined"),
    [
        ("s3://b/pool", "images/a.png", "s3://b/pool/images/a.png"),
        ("s3://b/pool/", "./images//a.png", "s3://b/pool/images/a.png"),
        ("memory://pool", "a.png", "memory://pool/a.png"),
    ],
)
def test_join_uri(base, rel, joined):
    assert join_uri(base, rel) == joined


@pytest.mark.parametrize(
    "rel", ["../secret.png", "images/../../x.png", "/abs.png", "\\abs.png", "s3://other/x.png", ""]
)
def test_join_uri_refuses_paths_leaving_the_root(rel):
    with pytest.raises(UriError, match="must be relative"):
        join_uri("s3://b/pool", rel)
