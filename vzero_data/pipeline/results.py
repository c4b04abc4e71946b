"""What flows between the pipeline's stages: one ``SampleResult`` per sample, kept or rejected.

Everything here is plain data (picklable, no open files or models) so it crosses process and Ray
boundaries unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vzero_core.sample import Sample


@dataclass(frozen=True)
class Reject:
    """Why a sample was not kept: the stage that refused it, a short reason code, and details."""

    stage: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class StoredImage:
    """An encoded image for the store's ``images`` table (the full image training reads)."""

    sha256: str
    data: bytes
    width: int
    height: int
    fmt: str


@dataclass
class SampleResult:
    """Everything the store writes for one sample.

    ``sample`` is None only for a source row that never became a sample (then ``sample_id`` is the
    row's key, e.g. ``file.jsonl:7``). A kept sample has its image, regions and views, plus in ``dropped`` the negatives that could not
    be made (recorded as rejects of the sample; it is kept when the recipe allows partial negatives),
    and the perceptual fingerprints of its image and positive crop.
    A rejected one has ``reject`` set and may still carry the regions its grounding found.
    """

    sample_id: str
    sample: Sample | None = None
    regions: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    image: StoredImage | None = None
    reject: Reject | None = None
    dropped: list[Reject] = field(default_factory=list)
    fingerprints: list[dict[str, Any]] = field(default_factory=list)  # rows of the image and positive crop
    seconds: float = 0.0

    @property
    def kept(self) -> bool:
        return self.reject is None


def rejected(sample: Sample | str, stage: str, reason: str, detail: str = "", **kw: Any) -> SampleResult:
    """A ``SampleResult`` for a sample (or a source row without a sample: its key) refused at ``stage``."""
    if isinstance(sample, Sample):
        return SampleResult(sample.sample_id, sample, reject=Reject(stage, reason, detail), **kw)
    return SampleResult(sample, None, reject=Reject(stage, reason, detail), **kw)


def error_reason(exc: BaseException) -> str:
    """Reason code for an unexpected exception: ``error:<ExceptionType>`` (the message goes in detail)."""
    return f"error:{type(exc).__name__}"
