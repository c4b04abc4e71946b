import pytest

from vzero_data.cli import main


@pytest.mark.e2e
def test_demo_runs_end_to_end_then_resumes(tmp_path, capsys):
    argv = ["demo", "--out", str(tmp_path), "--n", "3", "--workers", "0", "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for step in ("[1/4] synthesizing", "[2/4] curating", "[3/4] store summary", "[4/4] preview"):
        assert step in out
    assert "kept: 3 samples, 27 views" in out  # positive + 8 negative strategies each
    assert (tmp_path / "preview" / "contact_sheet.png").stat().st_size > 0
    assert (tmp_path / "preview" / "gallery.html").is_file()

    written = {p: p.stat().st_mtime_ns for p in tmp_path.glob("[sp][yr]*/**/*") if p.is_file()}
    assert any(p.parent.name == "images" for p in written) and any(p.name == "gallery.html" for p in written)

    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "nothing to do: 3 samples already curated" in out
    assert "found the 3 scenes already written there" in out and "(kept; --overwrite redraws them)" in out
    assert {p: p.stat().st_mtime_ns for p in written} == written, "a rerun replaces no scene and no preview"

    other = ["demo", "--out", str(tmp_path), "--n", "2", "--workers", "0", "--no-progress"]
    assert main(other) == 2
    assert "holds other scenes than the demo's 2 of seed 0; pass --overwrite" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in written} == written
