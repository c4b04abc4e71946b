"""Validated parameter models: every policy and strategy checks its arguments at construction."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


def format_validation_error(what: str, exc: ValidationError) -> str:
    """``what: field: problem (got value)`` for each error, joined by ``; ``."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<params>"
        got = f" (got {err['input']!r})" if err["type"] != "missing" else ""
        parts.append(f"{loc}: {err['msg']}{got}")
    return f"{what}: " + "; ".join(parts)


class StrictParams(BaseModel):
    """Frozen, no unknown fields, validated at construction (pydantic's errors name the field).

    No custom ``__init__``: models nest cleanly in a recipe's pydantic schema, whose errors then
    carry the full field path.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters with every default filled in (what a view records)."""
        return self.model_dump(mode="json")


class NegativeParams(StrictParams):
    """Parameters every negative strategy has."""

    max_attempts: int = Field(10, ge=1, le=1000, description="re-samples before the view is rejected")
    min_side: int = Field(4, ge=1, description="views with a side shorter than this are rejected")


class AvoidTargetParams(NegativeParams):
    """Parameters of strategies whose source window must stay off the target."""

    max_overlap: float = Field(
        0.0, ge=0.0, le=1.0, description="largest allowed fraction of the target box inside the window"
    )
    gap: int = Field(0, ge=0, description="pixels kept free between window and target (max_overlap=0)")

    @model_validator(mode="after")
    def _gap_needs_no_overlap(self) -> AvoidTargetParams:
        # With max_overlap > 0 windows are drawn anywhere and only their overlap is checked: a gap
        # would be silently ignored.
        if self.gap > 0 and self.max_overlap > 0:
            raise ValueError(f"gap={self.gap} applies only with max_overlap=0 (got {self.max_overlap})")
        return self
