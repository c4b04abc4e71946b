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

# Tables whose rows name a sample: a damaged batch's samples are read from them. An audit's batch
# holds audits (and rejects): rerunning the audit redoes exactly its samples.
SAMPLE_TABLES = (*PER_SAMPLE, "audits")

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


def _check_file(source: Any, table: str, report: VerifyReport) -> list[str]:
    """Problems of one shard file of ``table`` (empty when sound), read from ``source`` (a path
    or an open file); counts what it decoded into ``report``."""
    problems: list[str] = []
    try:
        pf = pq.ParquetFile(source, page_checksum_verification=True)
        decode = DECODED.get(table)
        for group in range(pf.num_row_groups):
            table_rows = pf.read_row_group(group)
            if decode is None:
                continue
            blob, key = decode
            kind = "image" if table == "images" else "view"
            for data, name in zip(
                table_rows.column(blob).to_pylist(), table_rows.column(key).to_pylist(), strict=True
            ):
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
    for name in SAMPLE_TABLES:
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
            found += [(rel, p) for p in _check_file(path, path.stem, report)]
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


def _published_copy_problem(store: Any, batch: str, name: str) -> str | None:
    """How the published file differs from what sync copied (size, SHA-256), or None."""
    import hashlib

    expected = store.manifest.batches[batch][name]
    digest, size = hashlib.sha256(), 0
    try:
        with store.fs.open(store.path(batch, name), "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        return "listed in the manifest but missing"
    except OSError as exc:
        return f"unreadable ({_first_line(exc)})"
    if size != expected.size or digest.hexdigest() != expected.sha256:
        return f"differs from the copy sync made ({size} bytes, expected {expected.size}; SHA-256 mismatch)"
    return None


def verify_published(store: Any) -> VerifyReport:
    """Check every file a published store's manifest lists: the bytes are those sync copied (size
    and SHA-256), then the same checks as :func:`verify_store` (page checksums, every image and
    view decoded). A published store is read-only: repair the local store and sync again."""
    report = VerifyReport(str(store.root))
    for batch, files in store.manifest.batches.items():
        report.batches += 1
        found = []
        for name in sorted(files):
            report.files += 1
            rel = f"{SHARDS}/{batch}/{name}"
            problem = _published_copy_problem(store, batch, name)
            if problem is None:
                with store.fs.open(store.path(batch, name), "rb") as fh:
                    found += [(rel, p) for p in _check_file(fh, name.removesuffix(".parquet"), report)]
            else:
                found.append((rel, problem))
        if found:
            samples = _published_batch_samples(store, batch)
            report.damage += [Damage(rel, problem, samples) for rel, problem in found]
    return report


def _published_batch_samples(store: Any, batch: str) -> list[str]:
    ids: set[str] = set()
    for name in SAMPLE_TABLES:
        try:
            table = store.read_shard(batch, name, columns=["sample_id"])
        except StoreError:
            continue
        if table is not None:
            ids.update(table.column("sample_id").to_pylist())
    return sorted(i for i in ids if i is not None)
