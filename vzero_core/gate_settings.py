"""The gate's settings as a recipe section: the trainer's ``train.gate`` and the evidence audit's
``audit.gate`` (the weight the trainer would give) are one model, so they cannot drift apart."""

from __future__ import annotations

from pydantic import model_validator

from vzero_core.recipe_base import Section


class GateSettings(Section):
    """``w = clip(1 + alpha * a, w_min, w_max)`` over scores ``relu(delta) - gamma * relu(-delta)``
    standardized with ``eps`` (:mod:`vzero_core.evidence_gate`); the released code's defaults."""

    gamma: float = 1.0
    alpha: float = 0.5
    w_min: float = 0.0
    w_max: float = 2.0
    eps: float = 1e-6

    @model_validator(mode="after")
    def _bounds(self) -> GateSettings:
        if self.w_min > self.w_max:
            raise ValueError(f"gate.w_min ({self.w_min}) must not exceed gate.w_max ({self.w_max})")
        return self
