"""``Sample``: one question about one image, the unit every vzero stage consumes.

Answers and options are carried for evaluation only; training never reads them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vzero_core.boxes import Box

SAMPLE_ID_HEX_CHARS = 20


class SampleError(ValueError):
    """A sample whose fields are missing or inconsistent."""


def image_digest(data: bytes) -> str:
    """Content address of an encoded image: hex SHA-256 of its file bytes."""
    return hashlib.sha256(data).hexdigest()


def make_sample_id(image_sha256: str, question: str) -> str:
    """Stable id from the image's content hash and the question (whitespace-normalised).

    The same picture asked the same question gets the same id whatever the file is called or where
    it came from, which is what resume and dedup key on.
    """
    normalized = " ".join(question.split())
    return hashlib.sha256(f"{image_sha256}\x1f{normalized}".encode()).hexdigest()[:SAMPLE_ID_HEX_CHARS]


@dataclass(frozen=True)
class Sample:
    """A question about an image, with optional evidence boxes in original-image ``xyxy`` pixels.

    ``image`` is a reference the sources resolve (a path, or ``sha256:<digest>`` inside a store);
    ``image_sha256`` is the content hash of its encoded bytes.
    """

    sample_id: str
    image: str
    image_sha256: str
    width: int
    height: int
    question: str
    answer: str | None = None
    options: tuple[str, ...] | None = None
    target: str | None = None
    boxes: tuple[Box, ...] = ()
    source: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"sample {self.sample_id or '<no id>'}"
        if not self.sample_id:
            raise SampleError(f"{where}: sample_id is empty")
        if not isinstance(self.question, str) or not self.question.strip():
            raise SampleError(f"{where}: question is empty")
        if not (
            isinstance(self.width, int)
            and isinstance(self.height, int)
            and self.width > 0
            and self.height > 0
        ):
            raise SampleError(
                f"{where}: image size must be positive integers, got {self.width!r}x{self.height!r}"
            )
        if self.options is not None:
            object.__setattr__(self, "options", tuple(str(o) for o in self.options))
        object.__setattr__(self, "boxes", tuple(self.boxes))
        for i, box in enumerate(self.boxes):
            if not isinstance(box, Box):
                raise SampleError(f"{where}: boxes[{i}] is {type(box).__name__}, expected Box")
            if box.x2 <= 0 or box.y2 <= 0 or box.x1 >= self.width or box.y1 >= self.height:
                raise SampleError(
                    f"{where}: boxes[{i}] {box.to_list()} lies outside the {self.width}x{self.height} image"
                )

    @classmethod
    def create(
        cls,
        *,
        image: str,
        image_sha256: str,
        width: int,
        height: int,
        question: str,
        sample_id: str | None = None,
        **fields: Any,
    ) -> Sample:
        """Build a sample, deriving ``sample_id`` from image hash and question unless one is given."""
        if not isinstance(question, str) or not question.strip():
            raise SampleError(f"sample for image {image!r}: question is empty")
        return cls(
            sample_id=sample_id or make_sample_id(image_sha256, question),
            image=image,
            image_sha256=image_sha256,
            width=width,
            height=height,
            question=question,
            **fields,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; boxes as ``xyxy`` lists."""
        return {
            "sample_id": self.sample_id,
            "image": self.image,
            "image_sha256": self.image_sha256,
            "width": self.width,
            "height": self.height,
            "question": self.question,
            "answer": self.answer,
            "options": list(self.options) if self.options is not None else None,
            "target": self.target,
            "boxes": [b.to_list() for b in self.boxes],
            "source": self.source,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sample:
        """Inverse of :meth:`to_dict`."""
        boxes: Sequence[Sequence[float]] = data.get("boxes") or ()
        options = data.get("options")
        return cls(
            sample_id=data["sample_id"],
            image=data["image"],
            image_sha256=data["image_sha256"],
            width=int(data["width"]),
            height=int(data["height"]),
            question=data["question"],
            answer=data.get("answer"),
            options=tuple(options) if options is not None else None,
            target=data.get("target"),
            boxes=tuple(Box.from_xyxy(b) for b in boxes),
            source=data.get("source") or "",
            metadata=dict(data.get("metadata") or {}),
        )
