"""The supervised fine-tuning recipe: the ``sft:`` section of a YAML file.

```yaml
sft:
  store: runs/world/student_store      # or a top-level `store:` key
  output_dir: runs/sft/student
  model: tiny:qwen2_5_vl                # a folder (e.g. a checkpoint's model/), hub id or tiny:<family>
  inputs: full                          # full image only; full_and_positive adds the positive crop
  steps: 600
  batch_size: 16
  optim: {lr: 1.0e-3}
```

The prompt is the one evaluation asks (question, lettered options, answer instruction) through the
student template, or the teacher template for ``full_and_positive``; the target is the correct
option's text or its letter (``answer``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, field_validator

from vzero_core.recipe_base import Section
from vzero_train.config import OptimConfig, PromptConfig, load_section


class TinySFTModel(Section):
    """Size of a ``tiny:<family>`` model built from scratch into the run folder."""

    hidden_size: int = Field(128, ge=32, multiple_of=32)
    num_layers: int = Field(2, ge=1)
    image_size: int = Field(224, ge=28)


class SFTDataConfig(Section):
    config_hash: str | None = None
    positive_strategy: str | None = Field(
        None, description="positive view strategy (None: the store's first)"
    )
    limit: int | None = Field(None, ge=1, description="use the first N records of the store")
    shuffle_buffer: int = Field(256, ge=1, description="streaming shuffle buffer (1 keeps store order)")


class SFTConfig(Section):
    """One supervised run over a store's labelled records (answers are read: this is not V-Zero)."""

    store: str | None = None
    output_dir: str = "runs/sft"
    model: str
    tiny: TinySFTModel = TinySFTModel()
    inputs: Literal["full", "full_and_positive"] = "full"
    answer: Literal["option", "letter"] = Field("option", description="target: the option's text or letter")
    prompts: PromptConfig = PromptConfig()
    data: SFTDataConfig = SFTDataConfig()
    optim: OptimConfig = OptimConfig(lr=1e-5)
    steps: int = Field(100, ge=1)
    batch_size: int = Field(16, ge=1)
    micro_batch_size: int | None = Field(
        None, ge=1, description="examples per forward/backward (None: the batch)"
    )
    save_every: int = Field(50, ge=1)
    keep_last: int | None = Field(2, ge=1, description="checkpoints kept (None: all)")
    log_every: int = Field(10, ge=1)
    seed: int = 0
    device: str = "auto"
    tensorboard: bool = False
    report_to: list[Literal["wandb", "mlflow"]] = Field(
        [], description="experiment trackers that also get the metrics (vzero_train.trackers)"
    )

    @field_validator("model")
    @classmethod
    def _model_named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("model must name a model folder, hub id or tiny:<family>")
        return value


def load_sft_config(
    path: str | os.PathLike[str], overrides: Sequence[str] | Mapping[str, Any] | None = None
) -> SFTConfig:
    """Read the ``sft:`` section of a YAML recipe; ``overrides`` (``--set`` strings or ``{dotted
    key: value}``) win over the file."""
    return load_section(path, "sft", SFTConfig, overrides)
