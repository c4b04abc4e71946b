"""The evidence audit's settings: the ``audit:`` section of a recipe, or ``vzero-data audit``'s flags.

```yaml
audit:
  teacher: runs/teacher/checkpoints/step_100   # a folder, a training checkpoint or a hub id
  strategies: [downsampled_distractor, masked] # negatives to score (default: every stored one)
  mode: auto            # labelled where a sample has an answer, else label-free; or labelled / label_free
  answer: option        # a multiple-choice answer is the option's text, or its letter
  thresholds: {min_gap: 0.693, min_score_std: 0.05}
  gate: {alpha: 0.5}    # the trainer's gate: set it to your train.gate
  reject: {negatives: true, no_gate_signal: false}
  execution: {batch_size: 8, device: cuda}
```

Everything except the teacher and ``execution`` goes into the audit's config hash (with the curation
config and the strategies it scored); the teacher is keyed by its own identity
(:mod:`vzero_data.audit.teacher`). Rows are keyed by both, so audits by several teachers, or of
several settings, coexist in one store and a rerun of the same audit resumes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from vzero_core.gate_settings import GateSettings
from vzero_core.prompt_text import DEFAULT_STUDENT_TEMPLATE, DEFAULT_TEACHER_TEMPLATE
from vzero_core.recipe_base import Section

# Bump when the rows an audit writes change for the same settings (scoring, flags, reference choice).
AUDIT_OUTPUT_VERSION = 1
AUDIT_HASH_HEX_CHARS = 16
MODES = ("auto", "labelled", "label_free")


class AuditPrompts(Section):
    """The templates the teacher is asked through: its own (``<image>`` then ``<crop>``) and the
    student's (one image), as in the ``train:`` section's ``prompts``."""

    student: str = DEFAULT_STUDENT_TEMPLATE
    teacher: str = DEFAULT_TEACHER_TEMPLATE
    system: str | None = None

    @model_validator(mode="after")
    def _valid_templates(self) -> AuditPrompts:
        from vzero_core.vlm.prompts import PromptTemplates

        PromptTemplates(self.student, self.teacher, self.system)  # raises TemplateError (a ValueError)
        return self


class AuditThresholds(Section):
    """When a flag is raised (log-probs in nats)."""

    min_gap: float = Field(
        math.log(2),
        description="a negative removes the evidence when it lowers the reference's log-prob by at least "
        "this much (ln 2: it at least halves the reference's probability); text_answers uses it too",
    )
    min_score_std: float = Field(
        0.05,
        ge=0.0,
        description="no gate signal: every negative spreads the candidates' evidence scores (nats per "
        "token) by less than this, so the gate's standardization would only amplify noise",
    )


class AuditReject(Section):
    """Teacher-verified views: what a failed audit rejects (a ``rejects`` row with its reason; the
    view stays in the store, and ``--audited-by`` readers skip it)."""

    negatives: bool = Field(False, description="reject a negative flagged negative_keeps_evidence")
    no_gate_signal: bool = Field(False, description="reject a sample flagged no_gate_signal")


class AuditRay(Section):
    """``executor: ray``: one actor per teacher copy."""

    address: str | None = None
    actors: int = Field(1, ge=1)
    gpus_per_actor: float = Field(0.0, ge=0.0)
    window: int = Field(256, ge=1, description="samples submitted to Ray at a time (bounds driver memory)")


class AuditExecution(Section):
    """How the audit runs; none of this changes its rows."""

    batch_size: int = Field(8, ge=1, description="samples scored together")
    micro_batch_size: int = Field(16, ge=1, description="rows (context x candidate) per forward")
    device: str = "auto"
    dtype: str = "auto"
    limit: int | None = Field(None, ge=1, description="audit only the first N samples of the store")
    workers: int = Field(0, ge=0, le=512, description="processes with a teacher each (0: this process)")
    executor: Literal["local", "ray"] = "local"
    flush_every: int = Field(
        64, ge=1, description="samples per published batch: at most this many are lost to a kill"
    )
    progress: bool = True
    ray: AuditRay = Field(default_factory=AuditRay)

    @field_validator("device")
    @classmethod
    def _device_known(cls, value: str) -> str:
        if value.split(":", 1)[0] not in ("auto", "cpu", "cuda", "mps", "xpu"):
            raise ValueError(f"expected 'auto', 'cpu', 'cuda[:N]', 'mps' or 'xpu', got {value!r}")
        return value


class AuditConfig(Section):
    """One evidence audit of a store's views by one teacher."""

    teacher: str = Field(min_length=1, description="a model folder, a training checkpoint or a hub id")
    strategies: list[str] | None = Field(
        None, description="negative strategies to score (None: every stored one)"
    )
    positive_strategy: str | None = Field(
        None, description="positive view strategy (None: the store's first)"
    )
    config_hash: str | None = Field(
        None, description="curation config whose views are scored (None: the store's only one)"
    )
    mode: Literal["auto", "labelled", "label_free"] = Field(
        "auto",
        description="reference answer: the label (labelled), the teacher's own answer with the positive crop "
        "(label_free), or the label where a sample has one (auto)",
    )
    answer: Literal["option", "letter"] = Field(
        "option", description="multiple choice: score option texts or letters"
    )
    max_new_tokens: int = Field(
        32, ge=1, description="label-free open questions: the teacher's greedy answer length"
    )
    prompts: AuditPrompts = Field(default_factory=AuditPrompts)
    thresholds: AuditThresholds = Field(default_factory=AuditThresholds)
    gate: GateSettings = Field(
        default_factory=GateSettings, description="the trainer's gate (train.gate): the weight it would give"
    )
    reject: AuditReject = Field(default_factory=AuditReject)
    execution: AuditExecution = Field(default_factory=AuditExecution)

    @field_validator("strategies")
    @classmethod
    def _strategies_named(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or any(not s.strip() for s in value)):
            raise ValueError("strategies must name at least one strategy (or be left out for all)")
        return value


# Left out of the audit hash: who scores (keyed by the teacher's identity instead) and how fast.
EXECUTION_ONLY = ("teacher", "execution")


def audit_hash(config: AuditConfig, curation_hash: str, strategies: list[str]) -> str:
    """Short hex key of what determines an audit's rows: its settings, the curation config and the
    negative strategies it scores, and the audit code's output version."""
    settings = config.model_dump(mode="json", exclude=set(EXECUTION_ONLY))
    settings.update(config_hash=curation_hash, strategies=sorted(strategies))
    payload = json.dumps(
        {"audit": settings, "output_version": AUDIT_OUTPUT_VERSION},
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:AUDIT_HASH_HEX_CHARS]


def load_audit_config(
    data: Mapping[str, Any], overrides: Sequence[Any] = (), where: str = "audit"
) -> AuditConfig:
    """Validate an ``audit:`` mapping after ``overrides`` (``KEY=VALUE`` strings or ``(dotted key,
    value)`` pairs); a :class:`RecipeError` naming ``where`` and each bad field."""
    from pydantic import ValidationError

    from vzero_core.recipe_base import RecipeError, apply_overrides
    from vzero_core.recipe_errors import describe_errors, join_errors

    try:
        return AuditConfig.model_validate(apply_overrides(data, overrides))
    except ValidationError as exc:
        raise RecipeError(join_errors(describe_errors(exc, AuditConfig, where, ("audit",)))) from None
