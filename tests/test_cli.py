import subprocess
import sys
from pathlib import Path

import pytest

from vzero_data.cli import main as data_main
from vzero_train.cli import main as train_main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "main, argv, expected",
    [
        (data_main, ["--help"], ["synth", "demo"]),
        (data_main, ["synth", "--help"], ["--out", "--seed", "example:"]),
        (train_main, ["--help"], ["env"]),
    ],
)
def test_help_lists_commands(main, argv, expected, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for word in expected:
        assert word in out


def test_unknown_command_fails(capsys):
    with pytest.raises(SystemExit) as exc:
        data_main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_data_cli_help_does_not_import_torch():
    code = "import sys; from vzero_data.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\nprint('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    assert out.strip().endswith("False")


def test_train_env_reports_device(capsys):
    assert train_main(["env"]) == 0
    assert "device:" in capsys.readouterr().out


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in line]
    assert len(ci_lines) == 1
    assert f"```bash\n{ci_lines[0]}\n```" in readme
