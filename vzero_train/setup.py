"""Setting up a training run: the accelerator, the models, the rollout backend, the optimizer, the data.

Each function builds one piece from the recipe; :class:`vzero_train.trainer.Trainer` composes them
and runs the loop. Nothing here runs a step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from vzero_core.vlm.models import LoadedVLM
from vzero_train.config import TrainConfig
from vzero_train.data import RANDOM_NEGATIVE, RELATIVE_NEGATIVE, RecordSource, StoredRecord
from vzero_train.precision import mixed_precision_mode
from vzero_train.rollout import SamplingConfig
from vzero_train.rollout_backends import make_rollout_backend
from vzero_train.teacher import Teacher, build_teacher
from vzero_train.tiny import materialize_model

logger = logging.getLogger(__name__)


def make_accelerator(config: TrainConfig) -> Any:
    """The run's ``accelerate.Accelerator``: CPU when asked, the recipe's mixed precision, and one
    scheduler step per optimizer update (accelerate would step it once per process)."""
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    forget_single_process_state()
    return Accelerator(
        cpu=config.device == "cpu",
        mixed_precision=mixed_precision_mode(config.mixed_precision, config.device),
        step_scheduler_with_optimizer=False,
        kwargs_handlers=[
            DistributedDataParallelKwargs(find_unused_parameters=config.ddp_find_unused_parameters)
        ],
    )


def forget_single_process_state() -> None:
    """Let a second run in one Python session choose its own precision and device.

    accelerate keeps its state per process and refuses a second ``Accelerator`` whose mixed precision
    differs (a notebook that trains twice, a script that trains then evaluates). A single-process
    state holds nothing a new run needs, so it is reset; a launched (distributed) state is left alone.
    """
    from accelerate.state import AcceleratorState, GradientState
    from accelerate.utils import DistributedType

    shared = AcceleratorState._shared_state
    if shared and shared.get("distributed_type", DistributedType.NO) == DistributedType.NO:
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()


def prompts_per_process(config: TrainConfig, accelerator: Any) -> int:
    """This process's share of ``prompts_per_step``, after checking the run fits its parallelism:
    the prompts split evenly over processes and then into mini-batches; FSDP (which shards the
    student) rules out in-training validation and an EMA teacher."""
    from accelerate.utils import DistributedType

    if accelerator.distributed_type == DistributedType.FSDP:
        if config.validation.data:
            raise ValueError(
                "train.validation evaluates the full student on the main process, which FSDP shards: "
                "with FSDP leave validation off and run `vzero-train eval` on the saved checkpoints"
            )
        if config.teacher.kind == "ema":
            raise ValueError(
                "an EMA teacher needs the student's full weights on every process: use DDP, not FSDP"
            )
    return config.prompts_per_rank(accelerator.num_processes)


def load_teacher(config: TrainConfig, student: LoadedVLM, output_dir: Path, accelerator: Any) -> Teacher:
    """The recipe's teacher (``tiny:`` specs are built first); call before the student is wrapped.

    With ``teacher.shard`` and several processes, an external teacher is loaded on the CPU in the
    dtype it would have on the device and its blocks are sharded over the processes
    (:mod:`vzero_train.teacher_sharding`); the whole teacher never sits on one GPU."""
    from vzero_core.hf_loading import resolve_dtype

    spec = config.teacher
    path = materialize_model(spec.path, output_dir, "teacher", config, accelerator) if spec.path else None
    shard = spec.shard and accelerator.num_processes > 1
    if spec.shard and not shard:
        logger.info("teacher.shard: one process, nothing to divide; the teacher stays whole")
    device = "cpu" if shard and spec.kind == "external" else str(accelerator.device)
    dtype = str(resolve_dtype(config.dtype, accelerator.device)).removeprefix("torch.")
    teacher = build_teacher(spec.kind, student, path=path, decay=spec.decay, device=device, dtype=dtype)
    if shard:
        from vzero_train.teacher_sharding import shard_frozen_model

        blocks = shard_frozen_model(teacher.model, accelerator.device)
        logger.info("teacher sharded over %d processes (%d blocks)", accelerator.num_processes, blocks)
    return teacher


def sampling_config(config: TrainConfig) -> SamplingConfig:
    r = config.rollout
    return SamplingConfig(
        group_size=r.group_size,
        temperature=r.temperature,
        top_p=r.top_p,
        top_k=r.top_k,
        max_new_tokens=r.max_new_tokens,
    )


def make_rollout(config: TrainConfig, student: LoadedVLM, student_path: str) -> Any:
    """The rollout backend of the recipe (transformers ``generate`` or vLLM) for ``student``."""
    kwargs: dict[str, Any] = {"batch_size": config.rollout.batch_size}
    if config.rollout.backend == "vllm":
        kwargs = {"model_path": student_path, "llm_kwargs": dict(config.rollout.vllm)}
    return make_rollout_backend(
        config.rollout.backend,
        student.processor,
        sampling_config(config),
        nested_images=student.nested_images,
        **kwargs,
    )


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> tuple[Any, Any]:
    """AdamW over the student and its learning-rate schedule (:mod:`vzero_train.schedule`), stepped
    once per optimizer update: ``num_mini_batches`` per training step."""
    from vzero_train.schedule import make_scheduler

    optim = config.optim
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=optim.lr, betas=optim.betas, weight_decay=optim.weight_decay
    )
    return optimizer, make_scheduler(optimizer, optim, config.steps * config.num_mini_batches)


def store_records(config: TrainConfig) -> RecordSource:
    """Records of the recipe's store through the store API, undecoded until read (answers are never
    read): skipped records and other processes' shares are never decoded (:class:`StoredRecord`).
    The store is checked first (:func:`vzero_train.data_checks.check_training_store`): it exists,
    holds one curation config or the named one (several would yield every sample once per config),
    and the named strategies; this runs before any model is built."""
    from vzero_data.store import RecordCounts, iter_raw_records, open_store
    from vzero_train.data_checks import check_training_store

    check_training_store(config)
    data = config.data
    computed = data.negative in (RANDOM_NEGATIVE, RELATIVE_NEGATIVE)  # not one stored strategy
    strategies = data.strategies or (None if computed else [data.negative])

    extra = {"positive_strategy": data.positive_strategy} if data.positive_strategy else {}
    if data.audited_by:
        extra["audited_by"] = data.audited_by

    def records() -> Iterator[StoredRecord]:
        store = open_store(config.store)
        counts = RecordCounts()
        for raw in iter_raw_records(store, strategies, data.config_hash, data.limit, counts=counts, **extra):
            yield StoredRecord(raw, str(store.root))
        if counts.skipped:
            logger.warning("training records: %s", counts.as_dict())

    return records
