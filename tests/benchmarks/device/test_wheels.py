"""The wheel set for the GPU machine: what is locked resolves there, pulls no torch or CUDA build,
and fits what travels; the download and the install without an index (e2e, needs the package index)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from benchmarks.device import wheels
from benchmarks.device.wheels import UNVERIFIED, LockedWheel

ROOT = Path(__file__).resolve().parents[3]


def locked(name: str, *requires: str, version: str = "1.0") -> LockedWheel:
    return LockedWheel(name, version, f"{name}-{version}-py3-none-any.whl", 10, "0" * 64, requires)


# ---------------------------------------------------------------------------- the committed set


def test_the_lock_holds_exactly_the_pins():
    """Editing wheels.in without re-running `wheels.py lock` fails here."""
    pinned = wheels.read_pins()
    assert {canonicalize_name(w.name): w.version for w in wheels.read_lock()} == pinned


def test_the_lock_resolves_against_the_gpu_image_pulls_nothing_forbidden_and_fits():
    problems, findings = wheels.check_set(wheels.read_lock(), wheels.read_image(), wheels.tree_bytes())
    assert problems == []
    assert findings, "the set's requirements were read"


def test_the_wheels_and_the_working_tree_fit_what_travels():
    total = sum(w.bytes for w in wheels.read_lock()) + wheels.tree_bytes()
    assert total <= wheels.TRAVEL_LIMIT, f"{total / wheels.MiB:.1f} MiB"


def test_the_carried_transformers_is_one_vzero_can_use():
    """vzero's own floor (pyproject) holds for the pinned version, not the image's 5.17."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    need = next(Requirement(d) for d in deps if Requirement(d).name == "transformers")
    assert wheels.read_pins()["transformers"] in need.specifier
    assert wheels.read_image()["transformers"] not in need.specifier


# vzero's dependencies that the GPU check never needs there, and why
NOT_CARRIED = {"num2words": "only SmolVLM's processor needs it; its docopt dependency has no wheel"}


def test_every_vzero_dependency_is_carried_or_in_the_image():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    vzero = locked("vzero", *(d for d in deps if canonicalize_name(Requirement(d).name) not in NOT_CARRIED))
    findings = wheels.resolve([vzero, *wheels.read_lock()], wheels.image_versions(wheels.read_image()))
    assert [f for f in findings if not f.ok] == []


# ----------------------------------------------------------------------------- the checks


@pytest.mark.parametrize(
    "name, forbidden",
    [
        ("torch", True),
        ("torchvision", True),
        ("triton", True),
        ("nvidia-cublas-cu12", True),
        ("nvidia_cudnn_cu13", True),
        ("cupy-cuda13x", True),
        ("jax-cuda13-plugin", True),
        ("transformers", False),
        ("torchmetrics", False),
        ("duckdb", False),
    ],
)
def test_forbidden_names(name, forbidden):
    assert (wheels.forbidden([name]) != []) is forbidden


IMAGE = {"numpy": "2.5.2", "pyyaml": None}


@pytest.mark.parametrize(
    "requires, provider, ok",
    [
        (["b>=1"], "wheel set", True),  # b is in the set at 1.0
        (["b>=2"], "wheel set", False),
        (["numpy>=2"], "image", True),
        (["numpy<2"], "image", False),
        (["pyyaml>=6"], "image (version not recorded)", True),  # counted as met, said so
        (["scipy"], "missing", False),
        (["b==1.0; python_version < '3.11'"], None, None),  # marker off on Python 3.12: not a requirement
        (["b>=9; extra == 'dev'"], None, None),
    ],
)
def test_resolve(requires, provider, ok):
    wheel = locked("a", *wheels.applicable(requires))
    findings = wheels.resolve([wheel, locked("b")], wheels.image_versions(IMAGE))
    if provider is None:
        assert findings == []
    else:
        (finding,) = findings
        assert (finding.provider, finding.ok) == (provider, ok)


def test_check_set_names_each_problem():
    wheel_set = [
        locked("torch"),
        locked("a", "scipy>=1"),
        LockedWheel("big", "1", "big.whl", 60 * wheels.MiB, "", ()),
    ]
    problems, _ = wheels.check_set(wheel_set, {}, tree=5 * wheels.MiB)
    assert problems[0].startswith("torch: the GPU machine keeps its own build")
    assert "a requires scipy>=1: neither the set nor the image has it" in problems
    assert "exceed the 64 MiB" in problems[-1]


def test_image_versions_tell_unrecorded_from_absent():
    version_of = wheels.image_versions({"numpy": "2.5.2", "pyyaml": None})
    assert [version_of(n) for n in ("numpy", "pyyaml", "scipy")] == ["2.5.2", UNVERIFIED, None]


def test_wheel_metadata_reads_name_version_and_requirements(tmp_path):
    path = tmp_path / "demo-1.2-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "demo-1.2.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: demo\nVersion: 1.2\nRequires-Dist: numpy>=2\n"
            "Requires-Dist: pytest; extra == 'dev'\n\nlong description\n",
        )
    name, version, requires = wheels.wheel_metadata(path)
    assert (name, version, requires) == ("demo", "1.2", ("numpy>=2", "pytest; extra == 'dev'"))
    assert wheels.applicable(requires) == ("numpy>=2",)


@pytest.mark.parametrize("line", ["transformers>=5", "transformers", "a==1,<2"])
def test_pins_must_be_exact(tmp_path, line):
    (tmp_path / "pins.in").write_text(f"# comment\n{line}\n")
    with pytest.raises(wheels.WheelError, match=r"pins.in:2: pin one exact version"):
        wheels.read_pins(tmp_path / "pins.in")


# ------------------------------------------------------------------- download and install (e2e)


def index_reachable() -> bool:
    url = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple")
    host = urlparse(url).hostname
    try:
        socket.create_connection((host, urlparse(url).port or 443), timeout=5).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def downloaded(tmp_path_factory) -> Path:
    if not index_reachable():
        pytest.skip("the package index is unreachable: the wheel download cannot be tested here")
    dest = tmp_path_factory.mktemp("wheels")
    wheels.download(wheels.read_lock(), dest)  # raises unless every file has its locked size and hash
    return dest


def pip_for_target(*args: str) -> list[str]:
    platforms = [a for p in wheels.PLATFORMS for a in ("--platform", p)]
    return [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--only-binary=:all:",
            "--python-version", wheels.PYTHON_VERSION, "--implementation", "cp", *platforms, *args]  # fmt: skip


def cpython_312() -> str | None:
    """A working CPython 3.12 on this machine (the GPU machine's Python), if there is one."""
    found = shutil.which("python3.12")
    check = "import sys; assert sys.version_info[:2] == (3, 12) and sys.implementation.name == 'cpython'"
    if found and subprocess.run([found, "-c", check], capture_output=True).returncode == 0:
        return found
    return None


@pytest.mark.e2e
def test_download_gives_exactly_the_locked_files(downloaded):
    lock = wheels.read_lock()
    assert sorted(p.name for p in downloaded.glob("*.whl")) == sorted(w.file for w in lock)
    assert sum(p.stat().st_size for p in downloaded.glob("*.whl")) == sum(w.bytes for w in lock)


@pytest.mark.e2e
def test_the_pins_resolve_for_the_gpu_platform_from_the_folder_alone(downloaded, tmp_path):
    pins = [f"{n}=={v}" for n, v in wheels.read_pins().items()]
    done = subprocess.run(
        pip_for_target("--dry-run", "--find-links", str(downloaded), "--target", str(tmp_path / "t"), *pins),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split("Would install", 1)[1].split()) == len(pins)


@pytest.mark.e2e
def test_install_without_an_index_and_import(downloaded, tmp_path):
    """The same install as run.sh's, then imports from it: the pure-Python hub client under this
    Python; where a CPython 3.12 is at hand, the compiled wheels too."""
    site = tmp_path / "site"
    done = subprocess.run(
        pip_for_target("-q", "--target", str(site), *map(str, downloaded.glob("*.whl"))),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert installed == {w.name.replace("-", "_").lower() for w in wheels.read_lock()}
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = "import huggingface_hub; print(huggingface_hub.__version__, huggingface_hub.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    version, path = out.stdout.split()
    assert version == wheels.read_pins()["huggingface-hub"] and path.startswith(str(site))
    python312 = cpython_312()
    if python312:
        code = "import duckdb, pydantic, regex; print(duckdb.sql('select 42').fetchall()[0][0], pydantic.VERSION)"
        out = subprocess.run([python312, "-s", "-c", code], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["42", wheels.read_pins()["pydantic"]]
