"""The V-Zero training loop: set-up, then steps of rollout, replays, gate and gated OPD update.

One step: each process takes its share of ``prompts_per_step`` prompts;
:func:`vzero_train.step.gated_step` samples G responses per prompt, replays them under the teacher
with the positive crop and (gate on) with the negative view, recomputes the student's old log-probs
and turns the two replays into per-sequence weights and advantages; :func:`vzero_train.update.ppo_update`
then runs ``num_mini_batches`` AdamW updates, each accumulated over micro-batches. The pieces a run
needs are built by :mod:`vzero_train.setup`. With ``train.validation`` set, the main process also
scores the student on a held-out benchmark at the steps it names (:mod:`vzero_train.validation`),
before that step's checkpoint. Distribution (DDP, FSDP, multi-node) comes from ``accelerate``;
launch with ``accelerate launch -m vzero_train.cli train RECIPE``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vzero_core.stage_times import StageTimes
from vzero_core.vlm.models import load_vlm
from vzero_core.vlm.prompts import PromptTemplates
from vzero_train.checkpoint import finished_checkpoint, load_checkpoint, resume_checkpoint, save_checkpoint
from vzero_train.config import TrainConfig
from vzero_train.data import PromptStream, RecordSource
from vzero_train.metrics import MetricsLogger
from vzero_train.precision import keep_outputs_in_compute_dtype
from vzero_train.preflight import PreflightReport, check_images_reach_models, first_prompt_item
from vzero_train.setup import (
    load_teacher,
    make_accelerator,
    make_optimizer,
    make_rollout,
    prompts_per_process,
    store_records,
)
from vzero_train.step import TIMERS, gated_step, step_metrics
from vzero_train.tiny import materialize_model
from vzero_train.update import ppo_update
from vzero_train.validation import Validator, validation_due

logger = logging.getLogger(__name__)

__all__ = ["TIMERS", "TrainResult", "Trainer", "step_seed", "store_records", "train"]


@dataclass
class TrainResult:
    """What a run did: the last completed step, its checkpoint and the logged metrics."""

    step: int
    output_dir: Path
    checkpoint: Path | None
    history: list[dict[str, Any]] = field(default_factory=list)
    already_done: bool = False  # the run was at its final step before this call: nothing trained
    times: StageTimes = field(default_factory=StageTimes)  # wall time per stage of this call


def step_seed(seed: int, step: int, rank: int) -> int:
    """A sampling seed for (run seed, step, process): independent streams, reproducible on resume."""
    return int(np.random.SeedSequence([seed, step, rank]).generate_state(1)[0])


class Trainer:
    """Builds models, optimizer, data and logging for a :class:`TrainConfig`; :meth:`train` runs it."""

    def __init__(
        self,
        config: TrainConfig,
        *,
        records: RecordSource | None = None,
        accelerator: Any = None,
        resume: bool = True,
    ) -> None:
        self.config = config
        source = records if records is not None else store_records(config)  # checked before any model
        self.accelerator = acc = accelerator or make_accelerator(config)
        self.output_dir = Path(config.output_dir)
        self.prompts_per_rank = prompts_per_process(config, acc)
        torch.manual_seed(config.seed)

        student_path = materialize_model(config.student, self.output_dir, "student", config, acc)
        self.student = load_vlm(student_path, device=str(acc.device), dtype="float32", trainable=True)
        self.teacher = load_teacher(config, self.student, self.output_dir, acc)
        if config.gradient_checkpointing:
            self.student.model.gradient_checkpointing_enable()
        self.templates = PromptTemplates(
            config.prompts.student, config.prompts.teacher, config.prompts.system
        )
        self.validator = (
            Validator(config.validation, self.templates, self.output_dir)
            if config.validation.data and acc.is_main_process
            else None
        )
        self.rollout_backend = make_rollout(config, self.student, student_path)
        optimizer, scheduler = make_optimizer(self.student.model, config)
        self.model, self.optimizer, self.scheduler = acc.prepare(self.student.model, optimizer, scheduler)
        keep_outputs_in_compute_dtype(acc.unwrap_model(self.model))

        self.step = 0
        data_position = 0
        checkpoint = resume_checkpoint(acc, self.output_dir) if resume else None
        if checkpoint is not None:
            state, teacher_state = load_checkpoint(acc, checkpoint)
            self.step, data_position = int(state["step"]), int(state["data_position"])
            self.teacher.load_state_dict(teacher_state)
            logger.info("resumed from %s (step %d, data position %d)", checkpoint, self.step, data_position)
        self.last_checkpoint = checkpoint

        self.stream = PromptStream(
            source,
            negative=config.data.negative,
            strategies=config.data.strategies,
            seed=config.seed,
            shuffle_buffer=config.data.shuffle_buffer,
            rank=acc.process_index,
            world_size=acc.num_processes,
            position=data_position,
        )
        # Logs of steps after the checkpoint (an interrupted run's) go; a fresh run keeps none (-1),
        # not even a stale step-0 evaluation.
        keep_through = self.step if checkpoint is not None else -1
        self.metrics = MetricsLogger(
            self.output_dir,
            enabled=acc.is_main_process,
            tensorboard=config.tensorboard,
            resume_step=keep_through,
            report_to=config.report_to,
            params=config.model_dump(mode="json"),
        )
        if self.validator is not None:
            self.validator.discard_after(keep_through)

    # ------------------------------------------------------------------------------------ a step
    def _sampling_context(self) -> contextlib.AbstractContextManager:
        from accelerate.utils import DistributedType

        if self.accelerator.distributed_type == DistributedType.FSDP:
            from torch.distributed.fsdp import FullyShardedDataParallel

            if isinstance(self.model, FullyShardedDataParallel):  # FSDP1: gather full weights to sample
                return FullyShardedDataParallel.summon_full_params(self.model, writeback=False)
        return contextlib.nullcontext()

    def train_step(self) -> dict[str, Any]:
        """One V-Zero step on this process's prompts; returns its (cross-process mean) metrics."""
        cfg, acc = self.config, self.accelerator
        items = self.stream.next_batch(cfg.prompts_per_step)
        batch = gated_step(
            items,
            student=dataclasses.replace(self.student, model=acc.unwrap_model(self.model)),
            teacher=self.teacher,
            rollout_backend=self.rollout_backend,
            templates=self.templates,
            config=cfg,
            seed=step_seed(cfg.seed, self.step, acc.process_index),
            scorer=self.model,
            device=acc.device,
            autocast=acc.autocast,
            sampling_context=self._sampling_context,
        )
        t0 = time.perf_counter()
        self.model.train()
        update_stats = ppo_update(
            batch,
            model=self.model,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            accelerator=acc,
            processor=self.student.processor,
            nested_images=self.student.nested_images,
            config=cfg,
            rows_per_mini_batch=self.prompts_per_rank // cfg.num_mini_batches * cfg.rollout.group_size,
            after_update=self._update_teacher if cfg.teacher.ema_every == "update" else lambda: None,
            step=self.step + 1,
        )
        applied = update_stats["skipped_updates"] < cfg.num_mini_batches
        if cfg.teacher.ema_every == "step" and applied:
            self._update_teacher()
        batch.times["update"] = time.perf_counter() - t0
        self.step += 1

        metrics: dict[str, Any] = {**step_metrics(batch, cfg), **update_stats}
        metrics.update({f"time/{k}": v for k, v in batch.times.items()})
        metrics = self._mean_over_processes(metrics)
        metrics["lr"] = self.scheduler.get_last_lr()[0]
        metrics["data_position"] = self.stream.position
        return metrics

    def _update_teacher(self) -> None:
        """Move an EMA teacher toward the current student (other teachers stay as they are)."""
        self.teacher.update(self.accelerator.unwrap_model(self.model))

    def _mean_over_processes(self, metrics: dict[str, Any]) -> dict[str, Any]:
        acc = self.accelerator
        if acc.num_processes == 1:
            return metrics
        keys = sorted(metrics)
        values = torch.tensor([float(metrics[k]) for k in keys], device=acc.device, dtype=torch.float64)
        values = acc.reduce(values, reduction="mean")
        return dict(zip(keys, values.tolist(), strict=True))

    def validate(self) -> dict[str, float]:
        """Evaluate the current student on the validation set (collective: the main process
        evaluates, the others wait). Returns the ``eval/...`` metrics on the main process, ``{}``
        elsewhere; the RNG streams and the model's mode are left as they were."""
        acc = self.accelerator
        metrics: dict[str, float] = {}
        if self.validator is not None:
            vlm = dataclasses.replace(self.student, model=acc.unwrap_model(self.model))
            with acc.autocast():
                metrics = self.validator.evaluate(vlm, self.step, progress=acc.is_main_process)
        acc.wait_for_everyone()
        return metrics

    # ------------------------------------------------------------------------------------- loop
    def preflight(self) -> PreflightReport:
        """Step-0 guards (:mod:`vzero_train.preflight`): the student's image and the teacher's
        positive crop must change their log-probs; raises :class:`PreflightError` otherwise."""
        acc = self.accelerator
        report = check_images_reach_models(
            self.model,
            self.student.processor,
            self.teacher.model,
            self.teacher.processor,
            self.templates,
            first_prompt_item(self.stream),
            student_nested_images=self.student.nested_images,
            teacher_nested_images=self.teacher.nested_images,
            device=acc.device,
            autocast=acc.autocast,
        )
        logger.info(
            "step-0 checks passed: blanking the image moves student log-probs by up to %.3g nats, "
            "blanking the positive crop moves teacher log-probs by up to %.3g",
            report.student_image_effect,
            report.teacher_crop_effect,
        )
        return report

    def save(self) -> Path:
        cfg = self.config
        self.last_checkpoint = save_checkpoint(
            self.accelerator,
            self.output_dir,
            self.step,
            model=self.model,
            processor=self.student.processor,
            data_position=self.stream.position,
            teacher_state=self.teacher.state_dict(),
            extra={"student": cfg.student, "teacher": cfg.teacher.model_dump(), "seed": cfg.seed},
            keep_last=cfg.keep_last,
        )
        return self.last_checkpoint

    def train(self, steps: int | None = None, *, times: StageTimes | None = None) -> TrainResult:
        """Run until ``steps`` (default: the recipe's ``steps``) total steps are done, checkpointing
        every ``save_every`` steps and at the end, validating at the steps ``validation_due`` names.
        ``times`` collects the wall time of each stage (steps broken down by phase)."""
        from vzero_core.progress import progress_bar

        cfg, acc = self.config, self.accelerator
        total = cfg.steps if steps is None else steps
        history: list[dict[str, Any]] = []
        times = times if times is not None else StageTimes()
        show = acc.is_main_process
        bar = progress_bar(
            total=total,
            initial=self.step,
            desc="vzero-train",
            unit="step",
            enabled=acc.is_main_process,
        )
        if self.step == 0 and total > 0:
            with times.stage("step-0 checks", show=show):
                self.preflight()
        try:
            if self.step == 0 and validation_due(cfg.validation, 0, total):
                with times.stage("validation", show=False):
                    metrics = self.validate()
                if metrics:
                    history.append({"step": 0, **metrics})
                    self.metrics.log(0, metrics)
            while self.step < total:
                with times.stage("steps", show=False):
                    metrics = self.train_step()
                times.add_parts("steps", {k[5:]: v for k, v in metrics.items() if k.startswith("time/")})
                evaluated = validation_due(cfg.validation, self.step, total)
                if evaluated:  # before the checkpoint: a checkpoint at step N implies its evaluation
                    with times.stage("validation", show=False):
                        metrics.update(self.validate())
                history.append({"step": self.step, **metrics})
                if evaluated or self.step % cfg.log_every == 0 or self.step == total:
                    self.metrics.log(self.step, metrics)
                bar.update(1)
                bar.set_postfix(
                    kl=f"{metrics['opd/reverse_kl_k1']:.3f}",
                    w=f"{metrics.get('gate/weight_mean', 1.0):.2f}",
                    len=f"{metrics['rollout/response_length']:.0f}",
                )
                if self.step % cfg.save_every == 0 or self.step == total:
                    with times.stage("checkpoints", show=False):
                        self.save()
        finally:
            bar.close()
            self.metrics.close()
        return TrainResult(self.step, self.output_dir, self.last_checkpoint, history, times=times)


def train(
    config: TrainConfig, *, records: RecordSource | None = None, steps: int | None = None, resume: bool = True
) -> TrainResult:
    """Train (resuming from the newest intact checkpoint under ``config.output_dir`` unless
    ``resume=False``). A run already at its final step returns at once, building nothing."""
    total = config.steps if steps is None else steps
    done = finished_checkpoint(config.output_dir, total) if resume else None
    if done is not None:
        step, path = done
        logger.info("already at step %d of %d (%s): nothing to train", step, total, path)
        return TrainResult(step, Path(config.output_dir), path, already_done=True)
    times = StageTimes()
    with times.stage("load models"):
        trainer = Trainer(config, records=records, resume=resume)
    return trainer.train(steps, times=times)
