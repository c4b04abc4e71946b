import pytest

from vzero_data.sources.paths import PathEscapeError, resolve_inside


@pytest.mark.parametrize(
    "rel, ok",
    [
        ("a.png", True),
        ("sub/../a.png", True),
        ("./sub/b.png", True),
        ("../a.png", False),
        ("sub/../../a.png", False),
        ("/abs/a.png", False),
        ("C:\\x.png", False),
        ("", False),
    ],
)
def test_paths_must_stay_inside_the_root(tmp_path, rel, ok):
    (tmp_path / "sub").mkdir()
    if ok:
        assert resolve_inside(tmp_path, rel).is_relative_to(tmp_path.resolve())
    else:
        with pytest.raises(PathEscapeError):
            resolve_inside(tmp_path, rel)


def test_symlinked_directory_leading_out_is_refused(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "door").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(PathEscapeError, match="outside the image root"):
        resolve_inside(tmp_path / "root", "door/x.png")
