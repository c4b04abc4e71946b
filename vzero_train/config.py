"""The training recipe: the ``train:`` section of a YAML file, as validated pydantic models.

Every field has the paper's default (its sections 3 and 6) unless noted; a recipe only names
what it changes. Model fields take a local folder, a hub id, or ``tiny:<family>`` (a tiny random
model built into the run folder, for demos and tests without a model hub).

```yaml
train:
  store: runs/demo/store          # or a top-level `store:` key shared with curation
  output_dir: runs/demo/train
  student: Qwen/Qwen3-VL-2B-Instruct
  teacher: {kind: external, path: Qwen/Qwen3-VL-8B-Instruct}
  validation: {data: vstar_bench/, every: 20, limit: 64}   # optional held-out accuracy
```
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from vzero_core.gate_settings import GateSettings
from vzero_core.prompt_text import DEFAULT_STUDENT_TEMPLATE, DEFAULT_TEACHER_TEMPLATE
from vzero_core.recipe_base import RecipeError, Section, apply_overrides, scoped_overrides

TINY_PREFIX = "tiny:"
# more tokens than any vocabulary: the teacher's whole distribution (loss.estimator full)
FULL_VOCABULARY = 1 << 30
_ModelT = TypeVar("_ModelT", bound=BaseModel)


class TeacherConfig(Section):
    """``external`` (a frozen checkpoint in ``path``), ``frozen_self`` or ``ema`` (the student's weights).

    An EMA teacher moves toward the student, ``theta_T <- d * theta_T + (1 - d) * theta_S``, in float32.
    ``ema_every`` says when: ``update`` (the default) after every optimizer update, i.e.
    ``num_mini_batches`` times per step, so the teacher never lags more than one update; ``step``
    once per training step, after its last update, as the authors' code does (a step whose updates
    were all skipped as non-finite leaves the teacher where it was). With the same ``decay``,
    ``update`` moves the teacher ``num_mini_batches`` times as far per step.

    ``shard`` divides a frozen teacher over the processes (:mod:`vzero_train.teacher_sharding`): each
    holds 1/N of every decoder layer and vision block and gathers one block at a time to run it.
    """

    kind: Literal["external", "frozen_self", "ema"] = "external"
    path: str | None = None
    decay: float = Field(0.98, ge=0.0, lt=1.0, description="EMA decay d; 0 copies the latest student")
    ema_every: Literal["update", "step"] = Field(
        "update", description="EMA cadence: after every optimizer update, or once per training step"
    )
    shard: bool = Field(
        False,
        description="divide a frozen teacher's repeated blocks (decoder layers, vision blocks) over the "
        "processes instead of holding it whole on each; for a teacher too large to replicate",
    )

    @model_validator(mode="after")
    def _external_needs_path(self) -> TeacherConfig:
        if self.kind == "external" and not self.path:
            raise ValueError("teacher.kind 'external' needs teacher.path (a folder, hub id or tiny:<family>)")
        if self.shard and self.kind == "ema":
            raise ValueError(
                "teacher.shard: an EMA teacher follows the student's full weights; shard only a frozen teacher"
            )
        return self


class TinyModelConfig(Section):
    """Sizes of ``tiny:<family>`` models; the teacher is wider than the student and shares its tokenizer."""

    student_hidden_size: int = 64
    teacher_hidden_size: int = 96
    num_layers: int = 2
    image_size: int = 224


class DataConfig(Section):
    """Which stored views train. ``negative`` names the negative view of the gate's negative replay:

    - a stored strategy, e.g. ``downsampled_distractor`` (the paper's default), or
      ``downsampled_view`` (the positive crop alone downsampled 2x: the crop-only "relative" variant);
    - ``random``: per sample, one drawn among ``strategies`` (all stored ones when unset);
    - ``relative``: the authors' "relative" ablation, computed on the fly with no stored negative:
      the negative replay sees every teacher image, the full image and the positive crop, downsampled
      2x (bicubic); the positive replay is unchanged.
    """

    negative: str = Field(
        "random", description="negative strategy name, 'random' among `strategies`, or 'relative'"
    )
    strategies: list[str] | None = Field(None, description="negative strategies to read (None: all stored)")
    positive_strategy: str | None = Field(
        None, description="positive view strategy (None: the store's first)"
    )
    config_hash: str | None = None
    audited_by: str | None = Field(
        None, description="only views this evidence audit accepted (teacher id, name or path, or audit hash)"
    )
    limit: int | None = Field(None, ge=1)
    shuffle_buffer: int = Field(256, ge=1, description="streaming shuffle buffer (1 keeps store order)")


class PromptConfig(Section):
    """Templates with ``{question}``, ``<image>`` (full image) and, for the teacher, ``<crop>``."""

    student: str = DEFAULT_STUDENT_TEMPLATE
    teacher: str = DEFAULT_TEACHER_TEMPLATE
    system: str | None = None


class RolloutConfig(Section):
    backend: Literal["hf", "vllm"] = "hf"
    group_size: int = Field(8, ge=1)
    temperature: float = Field(1.0, gt=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    top_k: int | None = Field(None, ge=1)
    max_new_tokens: int = Field(2048, ge=1)
    batch_size: int | None = Field(None, ge=1, description="sequences per generate call (None: all)")
    vllm: dict[str, Any] = Field(default_factory=dict, description="extra vllm.LLM arguments")


class GateConfig(GateSettings):
    enabled: bool = Field(True, description="False: plain OPD (w = 1), no negative replay")


class LossConfig(Section):
    """The distillation signal. ``k1`` (the paper's): the sampled token's reverse-KL estimate as a
    PPO advantage. ``topk`` / ``full``: the reverse KL over the teacher's top-k tokens (plus one
    bucket for the rest) or the whole vocabulary at every sampled position, a direct loss with
    lower variance (TRL's and verl's OPD offer these). ``baseline`` centres the k1 advantage's
    sequence sums within each prompt's group (docs/method.md, "Deviations")."""

    estimator: Literal["k1", "topk", "full"] = "k1"
    topk: int = Field(32, ge=1, description="teacher tokens per position for estimator topk")
    baseline: Literal["none", "group_mean", "leave_one_out"] = Field(
        "none", description="per-group baseline on the k1 sequence advantage"
    )
    clamp: float = Field(10.0, gt=0.0, description="clamp of log p_student - l_plus")
    clip_ratio: float = Field(0.2, gt=0.0)
    dual_clip: float | None = Field(3.0, gt=1.0)
    aggregation: Literal["token-mean", "seq-mean-group-mean"] = "token-mean"

    @property
    def teacher_topk(self) -> int | None:
        """How many of the teacher's tokens per position the loss needs (None: the sampled one)."""
        return {"k1": None, "topk": self.topk, "full": FULL_VOCABULARY}[self.estimator]


class OptimConfig(Section):
    lr: float = Field(1e-6, gt=0.0)
    weight_decay: float = Field(0.01, ge=0.0)
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = Field(1.0, gt=0.0)
    warmup_steps: int = Field(0, ge=0, description="optimizer updates of linear warm-up")
    schedule: Literal["constant", "linear", "cosine"] = Field(
        "constant", description="after warm-up: constant, or a linear or cosine decay to min_lr_ratio x lr"
    )
    min_lr_ratio: float = Field(0.0, ge=0.0, le=1.0, description="the decay's final lr, as a fraction of lr")


class ValidationConfig(Section):
    """In-training validation: greedy, full-image accuracy of the student on a held-out benchmark.

    Off unless ``data`` names a benchmark (any ``vzero-train eval`` source: a synthetic manifest, a
    store, V* Bench, ...). Runs on the main process with the student template used in training, at
    step 0 (``at_start``), every ``every`` steps, and after the last step; its numbers land in
    ``metrics.jsonl`` as ``eval/<name>/accuracy`` (plus ``ci_low``, ``ci_high``, ``n``,
    ``unparseable``, ``skipped``) and its responses in ``OUTPUT_DIR/eval/step_N/<name>.jsonl``.
    """

    data: str | None = Field(None, description="benchmark file or folder (None: no validation)")
    format: str | None = Field(None, description="benchmark format (None: detected from `data`)")
    name: str | None = Field(None, description="name in metric keys (None: the file or folder name)")
    every: int = Field(20, ge=0, description="evaluate every N steps (0: only after the last step)")
    limit: int | None = Field(64, ge=1, description="evaluate the first N entries (None: all)")
    batch_size: int = Field(8, ge=1, description="questions per generate call")
    max_new_tokens: int = Field(64, ge=1)
    at_start: bool = Field(True, description="also evaluate the untrained student at step 0")

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        if value is not None:
            from vzero_data.benchmarks import adapters

            known = adapters()
            if value not in known:
                raise ValueError(f"unknown benchmark format {value!r}; known: {', '.join(known)}")
        return value

    @field_validator("data", "name")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank (leave it out instead)")
        return value


class TrainConfig(Section):
    """One training run. Sizes are global: ``prompts_per_step`` is split over processes, then into
    ``num_mini_batches`` optimizer updates, each accumulated over micro-batches of sequences."""

    store: str | None = None
    output_dir: str = "runs/train"
    student: str
    teacher: TeacherConfig
    tiny: TinyModelConfig = TinyModelConfig()
    data: DataConfig = DataConfig()
    prompts: PromptConfig = PromptConfig()
    rollout: RolloutConfig = RolloutConfig()
    gate: GateConfig = GateConfig()
    loss: LossConfig = LossConfig()
    optim: OptimConfig = OptimConfig()
    validation: ValidationConfig = ValidationConfig()
    steps: int = Field(60, ge=1)
    prompts_per_step: int = Field(32, ge=1)
    num_mini_batches: int = Field(2, ge=1)
    micro_batch_size: int = Field(4, ge=1, description="sequences per forward/backward in the update")
    replay_batch_size: int = Field(8, ge=1, description="sequences per teacher/old-log-prob forward")
    gradient_checkpointing: bool = False
    ddp_find_unused_parameters: bool = Field(
        False, description="for models with parameters a forward may skip"
    )
    logprob_chunk_size: int = Field(256, ge=1, description="positions per log-softmax chunk")
    step_inputs: Literal["shared", "per_row"] = Field(
        "shared",
        description="shared: each prompt's images are preprocessed and encoded once per step and reused "
        "by every pass, and the teacher's common prefix runs once per prompt for both views; per_row: "
        "every row is encoded and replayed in full (the straightforward path, the benchmark's reference)",
    )
    save_every: int = Field(20, ge=1)
    keep_last: int | None = Field(3, ge=1, description="checkpoints kept (None: all)")
    log_every: int = Field(1, ge=1)
    seed: int = 0
    device: str = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="weights of frozen teachers; the student trains in float32 (bf16 autocast on GPU)"
    )
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = "auto"
    tensorboard: bool = True
    report_to: list[Literal["wandb", "mlflow"]] = Field(
        [], description="experiment trackers that also get the metrics (vzero_train.trackers)"
    )

    @field_validator("student")
    @classmethod
    def _student_named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("student must name a model folder, hub id or tiny:<family>")
        return value

    @model_validator(mode="after")
    def _sizes(self) -> TrainConfig:
        if self.prompts_per_step % self.num_mini_batches:
            raise ValueError(
                f"prompts_per_step ({self.prompts_per_step}) must be divisible by num_mini_batches ({self.num_mini_batches})"
            )
        return self

    def prompts_per_rank(self, processes: int) -> int:
        """Each process's share of ``prompts_per_step`` over ``processes``: the prompts must split
        evenly over the processes and then into ``num_mini_batches`` (the trainer and the memory
        plan both ask here)."""
        per_rank, rest = divmod(self.prompts_per_step, processes)
        if rest or per_rank % self.num_mini_batches:
            raise ValueError(
                f"train.prompts_per_step ({self.prompts_per_step}) must split evenly over {processes} "
                f"processes and then into train.num_mini_batches ({self.num_mini_batches})"
            )
        return per_rank


def load_train_config(
    path: str | os.PathLike[str], overrides: Sequence[str] | Mapping[str, Any] | None = None
) -> TrainConfig:
    """Read the ``train:`` section of a YAML recipe (or the whole file when it has no such key).

    The store path comes from ``train.store`` or, failing that, a top-level ``store`` (a path, or a
    mapping with ``path``). ``overrides`` win over the file: ``KEY.PATH=VALUE`` strings (``--set``,
    YAML values) or ``{dotted key: value}``.
    """
    return load_section(path, "train", TrainConfig, overrides, whole_file_key="student")


def load_section(
    path: str | os.PathLike[str],
    name: str,
    model: type[_ModelT],
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    *,
    whole_file_key: str | None = None,
) -> _ModelT:
    """Read and validate the ``name:`` section of a YAML recipe as ``model``.

    A file without that key is read whole when it has ``whole_file_key``. The store path comes from
    the section's ``store`` or, failing that, a top-level ``store`` (a path, or a mapping with
    ``path``). ``overrides`` (``KEY.PATH=VALUE`` strings or ``{dotted key: value}``, keyed by the
    full recipe path ``NAME.FIELD`` or by the path inside the section) win over the file. Errors
    name the file and the field.
    """
    import yaml

    from vzero_core.recipes import UnknownRecipe, resolve_recipe

    try:
        path = resolve_recipe(path)
    except UnknownRecipe as exc:
        raise RecipeError(str(exc)) from None
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise RecipeError(f"{path}: cannot read recipe ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise RecipeError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise RecipeError(f"{path}: a recipe must be a YAML mapping")
    whole = whole_file_key is not None and whole_file_key in doc
    section = doc.get(name, doc if whole else None)
    if not isinstance(section, dict):
        raise RecipeError(f"{path}: no `{name}:` section")
    section = dict(section)
    if "store" in model.model_fields and not section.get("store") and name in doc and "store" in doc:
        store = doc["store"]
        section["store"] = store.get("path") if isinstance(store, dict) else store
    try:
        section = apply_overrides(section, scoped_overrides(overrides or {}, name, model.model_fields))
    except RecipeError as exc:
        raise RecipeError(f"{path}: {exc}") from None
    try:
        return model.model_validate(section)
    except ValidationError as exc:
        from vzero_core.recipe_errors import describe_errors, join_errors

        raise RecipeError(join_errors(describe_errors(exc, model, path.name, (name,)))) from None
