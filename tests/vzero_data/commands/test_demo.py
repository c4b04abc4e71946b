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

    assert main(argv) == 0
    assert "nothing to do: 3 samples already curated" in capsys.readouterr().out
