"""Find damaged shard files, name them and the samples they hold, and quarantine their batches.

Every published Parquet file is read in full with page checksum verification (written since
checksums were switched on; older files are checked for readability only), and every stored image
and view is decoded. A damaged file's whole batch is moved to ``STORE/quarantine/`` (shards are
never edited in place), outside every reader's glob: the store is then consistent again, and since a
batch holds whole samples only, rerunning curate regenerates exactly the quarantined samples (and
rerunning an evidence audit re-audits exactly the samples of a quarantined audit batch).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vzero_core.image_io import ImageDecodeError, decode_image
from vzero_data.store.layout import SHARDS, StoreError, batch_dirs, init_layout
from vzero_data.store.writer import PER_SAMPLE

QUARANTINE = "quarantine"
# Encoded images to decode per table: (bytes column, id column that names the image or view).
DECODED = {"images": ("bytes", "sha256"), "views": ("image_bytes", "view_id")}


@dataclass
class Damage:
    """One damaged file: what is wrong with it and which samples it holds (empty if unknown)."""

    file: str  # relative to the store root
    problem: str
    samples: list[str] = field(default_factory=list)

    @property
    def batch(self) -> str:
        return Path(self.file).parent.name


@dataclass
class VerifyReport:
    """What ``verify_store`` checked and found."""

    root: str
    batches: int = 0
    files: int = 0
    images: int = 0
    views: int = 0
    damage: list[Damage] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)

    @property
    def damaged_batches(self) -> list[str]:
        return sorted({d.batch for d in self.damage})

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.root,
            "batches": self.batches,
            "files": self.files,
            "images": self.images,
            "views": self.views,
            "damage": [{"file": d.file, "problem": d.problem, "samples": d.samples} for d in self.damage],
            "quarantined": self.quarantined,
        }

    def format_text(self) -> str:
        lines = [
            f"verified {self.root}: {self.batches} batches, {self.files} files, "
            f"{self.images} images and {self.views} views decoded"
        ]
        if not self.damage:
            lines.append("no damage found")
            return "\n".join(lines)
        lines.append(f"damage in {len(self.damage)} file(s) of {len(self.damaged_batches)} batch(es):")
        for d in self.damage:
            lines.append(f"  {d.file}: {d.problem}")
            if d.samples:
                shown = ", ".join(d.samples[:10]) + (
                    f" and {len(d.samples) - 10} more" if len(d.samples) > 10 else ""
                )
                lines.append(f"    samples ({len(d.samples)}): {shown}")
            else:
                lines.append("    samples: none known (no readable per-sample file in this batch)")
        if self.quarantined:
            n = len({s for d in self.damage for s in d.samples})
            lines.append(
                f"quarantined {len(self.quarantined)} batch(es) into {Path(self.root) / QUARANTINE}; "
                f"rerun curate (or the audit) to regenerate their {n} sample(s)"
            )
        else:
            lines.append("run again with --repair to quarantine the damaged batches")
        return "\n".join(lines)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _check_file(path: Path, rel: str, report: VerifyReport) -> list[str]:
    """Problems of one shard file (empty when sound); counts what it decoded into ``report``."""
    problems: list[str] = []
    try:
        pf = pq.ParquetFile(path, page_checksum_verification=True)
        decode = DECODED.get(path.stem)
        for group in range(pf.num_row_groups):
            table = pf.read_row_group(group)
            if decode is None:
                continue
            blob, key = decode
            for data, name in zip(table.column(blob).to_pylist(), table.column(key).to_pylist(), strict=True):
                kind = "image" if path.stem == "images" else "view"
                try:
                    decode_image(data, f"{kind} {name}")
                except ImageDecodeError as exc:
                    problems.append(f"{exc}")
                if kind == "image":
                    report.images += 1
                else:
                    report.views += 1
    except (OSError, pa.ArrowException) as exc:
        problems.append(f"unreadable ({_first_line(exc)})")
    return problems


def _batch_samples(batch: Path) -> list[str]:
    """Sample ids held by ``batch``, from whichever of its per-sample files are readable."""
    ids: set[str] = set()
    for name in (*PER_SAMPLE, "audits"):  # an audit's batch: rerunning the audit redoes its samples
        path = batch / f"{name}.parquet"
        if not path.exists():
            continue
        try:
            ids.update(pq.read_table(path, columns=["sample_id"]).column("sample_id").to_pylist())
        except (OSError, pa.ArrowException):
            continue
    return sorted(i for i in ids if i is not None)


def verify_store(root: Path) -> VerifyReport:
    """Check every published shard file of the store at ``root``; see the module docstring."""
    root = Path(root).resolve()
    report = VerifyReport(str(root))
    for batch in batch_dirs(root):
        report.batches += 1
        found = []
        for path in sorted(batch.glob("*.parquet")):
            report.files += 1
            rel = os.path.relpath(path, root)
            found += [(rel, p) for p in _check_file(path, rel, report)]
        if found:
            samples = _batch_samples(batch)
            report.damage += [Damage(rel, problem, samples) for rel, problem in found]
    return report


def quarantine(root: Path, report: VerifyReport) -> list[Path]:
    """Move every batch with damage out of ``shards/`` into ``quarantine/``; rebuild what readers need."""
    from vzero_data.store.catalog import build_catalog
    from vzero_data.store.locking import store_lock

    root = Path(root).resolve()
    moved = []
    with store_lock(root):
        (root / QUARANTINE).mkdir(exist_ok=True)
        for name in report.damaged_batches:
            source, target = root / SHARDS / name, root / QUARANTINE / name
            n = 1
            while target.exists():
                target, n = root / QUARANTINE / f"{name}.{n}", n + 1
            try:
                os.rename(source, target)
            except OSError as exc:
                raise StoreError(f"{source}: cannot move it to {target} ({exc.strerror or exc})") from exc
            moved.append(target)
        init_layout(root)  # puts back the empty schema batch if it was the damaged one
    build_catalog(root)
    report.quarantined = [os.path.relpath(p, root) for p in moved]
    return moved
