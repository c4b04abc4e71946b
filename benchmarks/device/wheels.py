"""The Python packages the GPU machine lacks, as wheels for its platform.

The GPU machine (CPython 3.12 on x86-64 Linux, PyTorch with CUDA) has no network and no package
index. ``wheels.in`` pins what vzero needs there and the image lacks; ``wheels.lock.json`` records
each pin's wheel for that platform (file, bytes, sha256, and the requirements that apply there).
Here, ``download`` fetches exactly those files into ``.device-wheels/`` (ignored by git), which
travels with the working tree and is installed there with ``pip install --no-index --target``.

  python benchmarks/device/wheels.py download   # .device-wheels/ from the lock (needs the index)
  python benchmarks/device/wheels.py verify     # the lock against the GPU image and the size limit
  python benchmarks/device/wheels.py lock       # after editing wheels.in: re-pin (needs the index)

``verify`` runs offline: every requirement of every locked wheel must be met by the set itself or by
the image (``gpu_image.txt``), nothing may pull torch, torchvision, triton or a CUDA build, and the
wheels plus the working tree must fit the 64 MiB that travels to the machine.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PINS = HERE / "wheels.in"
LOCK = HERE / "wheels.lock.json"
IMAGE = HERE / "gpu_image.txt"
WHEEL_DIR = ROOT / ".device-wheels"

MiB = 1024 * 1024
TRAVEL_LIMIT = 64 * MiB  # the working tree plus carried paths that reach the GPU machine

PYTHON_VERSION = "3.12"
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
)
# environment markers as they evaluate on the GPU machine
TARGET_ENV = {
    "python_version": PYTHON_VERSION,
    "python_full_version": "3.12.3",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "extra": "",
}
# the GPU machine brings its own: a wheel set holding one of these would shadow or break it
FORBIDDEN = re.compile(r"^(torch|torchvision|torchaudio|triton)$|^nvidia-|cuda")

UNVERIFIED = "unverified"  # a version that the image holds but nobody recorded


class WheelError(RuntimeError):
    """A wheel set that would not install or run on the GPU machine; the message says which file."""


@dataclass(frozen=True)
class LockedWheel:
    name: str
    version: str
    file: str
    bytes: int
    sha256: str
    requires: tuple[str, ...]  # Requires-Dist lines that apply on the GPU machine, no extras


@dataclass(frozen=True)
class Finding:
    """One requirement of one wheel and what meets it there."""

    wheel: str
    requirement: str
    provider: str  # "wheel set", "image", "image (version not recorded)", "missing", "installed"
    version: str | None
    ok: bool


def read_pins(path: Path = PINS) -> dict[str, str]:
    """``{canonical name: version}`` of ``name==version`` lines (comments and blank lines skipped)."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        spec = list(req.specifier)
        if len(spec) != 1 or spec[0].operator != "==":
            raise WheelError(f"{path}:{number}: pin one exact version (name==version), got {line!r}")
        pins[canonicalize_name(req.name)] = spec[0].version
    return pins


def read_image(path: Path = IMAGE) -> dict[str, str | None]:
    """``{canonical name: version or None}`` of the GPU image's packages (None: version not recorded)."""
    image: dict[str, str | None] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            image[canonicalize_name(name)] = version or None
    return image


def read_lock(path: Path = LOCK) -> list[LockedWheel]:
    data = json.loads(path.read_text())
    return [LockedWheel(**{**w, "requires": tuple(w["requires"])}) for w in data["wheels"]]


def forbidden(names: Iterable[str]) -> list[str]:
    """The names among ``names`` that the GPU machine must keep its own of (torch, CUDA builds...)."""
    return sorted(n for n in map(canonicalize_name, names) if FORBIDDEN.search(n))


def applicable(requires: Iterable[str], env: Mapping[str, str] = TARGET_ENV) -> tuple[str, ...]:
    """The Requires-Dist lines whose marker holds in ``env`` (extras off)."""
    return tuple(r for r in requires if Requirement(r).marker is None or Requirement(r).marker.evaluate(env))


def wheel_metadata(path: Path) -> tuple[str, str, tuple[str, ...]]:
    """(name, version, every Requires-Dist line) from a wheel's ``*.dist-info/METADATA``."""
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if len(names) != 1:
            raise WheelError(f"{path.name}: expected one .dist-info/METADATA, found {len(names)}")
        meta = email.parser.Parser().parsestr(zf.read(names[0]).decode("utf-8"))
    return meta["Name"], meta["Version"], tuple(meta.get_all("Requires-Dist") or ())


def resolve(wheels: Iterable[LockedWheel], version_of: Callable[[str], str | None]) -> list[Finding]:
    """Every requirement of ``wheels`` and who meets it: the set itself first (on ``PYTHONPATH`` its
    packages come first), else ``version_of(name)``, which returns a version, :data:`UNVERIFIED`
    (present, version unknown: counted as met and said so) or None (absent)."""
    wheels = list(wheels)
    in_set = {canonicalize_name(w.name): w.version for w in wheels}
    findings = []
    for wheel in wheels:
        for line in wheel.requires:
            req = Requirement(line)
            name = canonicalize_name(req.name)
            if name in in_set:
                version, provider = in_set[name], "wheel set"
            else:
                version, provider = version_of(name), "image"
            if version is None:
                findings.append(Finding(wheel.name, line, "missing", None, False))
            elif version == UNVERIFIED:
                findings.append(Finding(wheel.name, line, "image (version not recorded)", None, True))
            else:
                ok = req.specifier.contains(Version(version), prereleases=True)
                findings.append(Finding(wheel.name, line, provider, version, ok))
    return findings


def image_versions(image: Mapping[str, str | None]) -> Callable[[str], str | None]:
    """``version_of`` for :func:`resolve` from the image list."""
    return lambda name: (image[name] or UNVERIFIED) if name in image else None


def tree_bytes(root: Path = ROOT) -> int:
    """Bytes of what travels with the working tree: tracked files and untracked ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sum(p.stat().st_size for p in (root / f for f in listed.split("\0") if f) if p.is_file())


def check_set(
    wheels: list[LockedWheel], image: Mapping[str, str | None], tree: int, limit: int = TRAVEL_LIMIT
) -> tuple[list[str], list[Finding]]:
    """(problems, findings): forbidden packages, unmet requirements and the size against ``limit``."""
    problems = [f"{n}: the GPU machine keeps its own build" for n in forbidden(w.name for w in wheels)]
    findings = resolve(wheels, image_versions(image))
    problems += [
        f"{f.wheel} requires {f.requirement}: "
        + (f"{f.provider} has {f.version}" if f.version else "neither the set nor the image has it")
        for f in findings
        if not f.ok
    ]
    total = sum(w.bytes for w in wheels)
    if total + tree > limit:
        problems.append(
            f"wheels {total / MiB:.1f} MiB + working tree {tree / MiB:.1f} MiB exceed the {limit / MiB:.0f} MiB "
            "that travels to the GPU machine"
        )
    return problems, findings


def pip_download(requirements: list[str], dest: Path) -> None:
    """``pip download --no-deps`` of ``requirements`` for the GPU machine's platform into ``dest``."""
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet"]
    cmd += ["--python-version", PYTHON_VERSION, "--implementation", "cp", *platforms, "-d", str(dest)]
    done = subprocess.run([*cmd, *requirements], capture_output=True, text=True)
    if done.returncode != 0:
        raise WheelError(f"pip download failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def lock(pins: Mapping[str, str], path: Path = LOCK) -> list[LockedWheel]:
    """Download every pin for the GPU platform and write the lock (files, sizes, hashes, requirements)."""
    with tempfile.TemporaryDirectory() as tmp:
        pip_download([f"{n}=={v}" for n, v in pins.items()], Path(tmp))
        wheels = []
        for file in sorted(Path(tmp).glob("*.whl")):
            name, version, requires = wheel_metadata(file)
            wheels.append(
                LockedWheel(name, version, file.name, file.stat().st_size, sha256(file), applicable(requires))
            )
    got = {canonicalize_name(w.name): w.version for w in wheels}
    if got != dict(pins):
        raise WheelError(f"downloaded {got}, pinned {dict(pins)}")
    data = {
        "python_version": PYTHON_VERSION,
        "platforms": list(PLATFORMS),
        "wheels": [{**asdict(w), "requires": list(w.requires)} for w in wheels],
    }
    path.write_text(json.dumps(data, indent=1) + "\n")
    return wheels


def download(wheels: list[LockedWheel], dest: Path = WHEEL_DIR) -> None:
    """Fetch exactly the locked files into ``dest`` (checked by size and sha256); other wheels there go."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {w.file: w for w in wheels}
    for stale in dest.glob("*.whl"):
        if stale.name not in wanted:
            stale.unlink()
    missing = [w for w in wheels if not (dest / w.file).is_file() or sha256(dest / w.file) != w.sha256]
    if missing:
        pip_download([f"{w.name}=={w.version}" for w in missing], dest)
    for w in wheels:
        path = dest / w.file
        if not path.is_file():
            raise WheelError(f"{w.file}: pip fetched another file for {w.name}=={w.version}; re-run `lock`")
        if path.stat().st_size != w.bytes or sha256(path) != w.sha256:
            raise WheelError(f"{path}: size or sha256 differs from wheels.lock.json")
    (dest / "source.json").write_text(json.dumps({"commit": git_commit()}) + "\n")


def git_commit() -> str:
    """This checkout's commit (``-dirty`` with local changes): the GPU machine's copy has no git, so
    the check reads it from ``source.json`` beside the wheels."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:  # no git
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")


def _without_marker(line: str) -> str:
    req = Requirement(line)
    return f"{canonicalize_name(req.name)}{req.specifier}"


def print_check(problems: list[str], findings: list[Finding], wheels: list[LockedWheel], tree: int) -> None:
    total = sum(w.bytes for w in wheels)
    print(
        f"{len(wheels)} wheels, {total / MiB:.1f} MiB; working tree {tree / MiB:.1f} MiB; together "
        f"{(total + tree) / MiB:.1f} of {TRAVEL_LIMIT / MiB:.0f} MiB"
    )
    unverified = sorted({_without_marker(f.requirement) for f in findings if f.version is None and f.ok})
    if unverified:
        print(f"met by the image in a version not recorded (checked on the machine): {', '.join(unverified)}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["download", "verify", "lock"])
    parser.add_argument(
        "--dest", type=Path, default=WHEEL_DIR, help="download folder (default .device-wheels)"
    )
    args = parser.parse_args(argv)
    try:
        wheels = lock(read_pins()) if args.action == "lock" else read_lock()
        if args.action == "download":
            download(wheels, args.dest)
            print(f"{len(wheels)} wheels in {args.dest}")
        tree = tree_bytes()
        problems, findings = check_set(wheels, read_image(), tree)
    except (WheelError, OSError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_check(problems, findings, wheels, tree)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
