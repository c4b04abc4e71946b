"""The V-Zero training loop: rollout, teacher replay under both views, gate, gated OPD update.

One step (METHOD.md section 3): each process takes its share of ``prompts_per_step`` prompts, the
student samples G responses per prompt on the full image, the teacher scores those exact tokens
with the positive crop and (gate on) with the negative view, the student's own old log-probs are
recomputed, the gate turns the two replays into per-sequence weights, and ``num_mini_batches``
AdamW updates follow, each accumulated over micro-batches. With ``train.validation`` set, the main
process also scores the student on a held-out benchmark at the steps it names
(:mod:`vzero_train.validation`), before that step's checkpoint. Distribution (DDP, FSDP, multi-node)
comes from ``accelerate``; launch with ``accelerate launch -m vzero_train.cli train RECIPE``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
import types
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vzero_train.checkpoint import finished_checkpoint, load_checkpoint, resume_checkpoint, save_checkpoint
from vzero_train.config import TINY_PREFIX, TrainConfig
from vzero_train.data import PromptItem, PromptStream, RecordSource
from vzero_train.data_checks import check_training_store
from vzero_train.gating import evidence_weights, gate_metrics
from vzero_train.losses import opd_token_advantages, policy_loss, token_weights
from vzero_train.metrics import MetricsLogger
from vzero_train.models import load_vlm
from vzero_train.preflight import PreflightReport, check_images_reach_models, first_prompt_item
from vzero_train.prompts import PromptTemplates, build_messages, encode_prompts, render_prompt
from vzero_train.replay import replay_logprobs, response_logprobs
from vzero_train.rollout import Rollout, SamplingConfig, make_rollout_backend
from vzero_train.teacher import Teacher, build_teacher
from vzero_train.validation import Validator, validation_due

logger = logging.getLogger(__name__)

TIMERS = ("rollout", "replay_positive", "replay_negative", "old_logprobs", "update")


@dataclass
class TrainResult:
    """What a run did: the last completed step, its checkpoint and the logged metrics."""

    step: int
    output_dir: Path
    checkpoint: Path | None
    history: list[dict[str, Any]] = field(default_factory=list)
    already_done: bool = False  # the run was at its final step before this call: nothing trained


def step_seed(seed: int, step: int, rank: int) -> int:
    """A sampling seed for (run seed, step, process): independent streams, reproducible on resume."""
    return int(np.random.SeedSequence([seed, step, rank]).generate_state(1)[0])


def materialize_model(spec: str, output_dir: Path, role: str, config: TrainConfig, accelerator: Any) -> str:
    """A model path for ``spec``; ``tiny:<family>`` builds a tiny random model under the run folder."""
    if not spec.startswith(TINY_PREFIX):
        return spec
    from vzero_data.tiny_models import save_tiny_model

    family = spec[len(TINY_PREFIX) :]
    path = output_dir / "models" / f"{role}-{family}"
    tiny = config.tiny
    hidden = tiny.student_hidden_size if role == "student" else tiny.teacher_hidden_size
    if accelerator.is_main_process and not (path / "config.json").is_file():
        save_tiny_model(
            family,
            path,
            hidden_size=hidden,
            num_layers=tiny.num_layers,
            image_size=tiny.image_size,
            seed=config.seed + (0 if role == "student" else 1),
        )
    accelerator.wait_for_everyone()
    return str(path)


def store_records(config: TrainConfig) -> RecordSource:
    """Records of the recipe's store through the store API (answers are never read)."""
    if not config.store:
        raise ValueError("the train recipe names no store (train.store or a top-level store: path)")
    try:
        from vzero_data.store import open_store
        from vzero_data.store.records import require_one_config
    except ImportError as exc:
        raise RuntimeError(
            f"cannot read store {config.store!r}: vzero_data.store is unavailable ({exc})"
        ) from exc
    data = config.data
    strategies = data.strategies or (None if data.negative == "random" else [data.negative])

    extra = {"positive_strategy": data.positive_strategy} if data.positive_strategy else {}
    # A store curated under several configs would otherwise train on every sample once per config.
    require_one_config(open_store(config.store), data.config_hash, how="train.data.config_hash")

    def records():
        return open_store(config.store).iter_training_records(
            strategies=strategies, config_hash=data.config_hash, limit=data.limit, **extra
        )

    return records


def keep_outputs_in_compute_dtype(model: Any) -> None:
    """Undo accelerate's cast of every output of a prepared model to float32 (its autocast stays).

    For a VLM that cast is a float32 copy of the (B, T, V) logits, which the log-prob gather then
    saves for backward: the whole sequence's float32 logits would stay alive through the update.
    Without it the logits stay in the autocast dtype and are upcast one chunk at a time
    (:func:`vzero_train.replay.gather_token_logprobs`); the log-probs are the same.
    """
    from accelerate.utils.operations import ConvertOutputsToFp32

    forward = model.forward
    cast = getattr(getattr(forward, "__func__", forward), "__wrapped__", None)
    if isinstance(cast, ConvertOutputsToFp32):
        inner = cast.model_forward
        model.forward = types.MethodType(inner, model) if hasattr(forward, "__func__") else inner


def _mixed_precision(config: TrainConfig) -> str:
    if config.mixed_precision != "auto":
        return config.mixed_precision
    on_gpu = torch.cuda.is_available() and config.device not in ("cpu", "mps")
    return "bf16" if on_gpu and torch.cuda.is_bf16_supported() else "no"


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
        from accelerate import Accelerator
        from accelerate.utils import DistributedDataParallelKwargs, DistributedType

        self.config = config
        if records is None:
            check_training_store(config)  # before any model is built
        self.accelerator = accelerator or Accelerator(
            cpu=config.device == "cpu",
            mixed_precision=_mixed_precision(config),
            # one scheduler step per optimizer update (accelerate would step it once per process)
            step_scheduler_with_optimizer=False,
            kwargs_handlers=[
                DistributedDataParallelKwargs(find_unused_parameters=config.ddp_find_unused_parameters)
            ],
        )
        acc = self.accelerator
        if config.validation.data and acc.distributed_type == DistributedType.FSDP:
            raise ValueError(
                "train.validation evaluates the full student on the main process, which FSDP shards: "
                "with FSDP leave validation off and run `vzero-train eval` on the saved checkpoints"
            )
        self.output_dir = Path(config.output_dir)
        world = acc.num_processes
        per_rank, rest = divmod(config.prompts_per_step, world)
        if rest or per_rank % config.num_mini_batches:
            raise ValueError(
                f"prompts_per_step ({config.prompts_per_step}) must split evenly over {world} processes "
                f"and then into {config.num_mini_batches} mini-batches"
            )
        self.prompts_per_rank = per_rank
        torch.manual_seed(config.seed)

        student_path = materialize_model(config.student, self.output_dir, "student", config, acc)
        self.student = load_vlm(student_path, device=str(acc.device), dtype="float32", trainable=True)
        teacher_cfg = config.teacher
        if teacher_cfg.kind == "ema" and acc.distributed_type == DistributedType.FSDP:
            raise ValueError(
                "an EMA teacher needs the student's full weights on every process: use DDP, not FSDP"
            )
        teacher_path = (
            materialize_model(teacher_cfg.path, self.output_dir, "teacher", config, acc)
            if teacher_cfg.path
            else None
        )
        self.teacher: Teacher = build_teacher(
            teacher_cfg.kind,
            self.student,
            path=teacher_path,
            decay=teacher_cfg.decay,
            device=str(acc.device),
            dtype=config.dtype,
        )
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
        self.sampling = SamplingConfig(
            group_size=config.rollout.group_size,
            temperature=config.rollout.temperature,
            top_p=config.rollout.top_p,
            top_k=config.rollout.top_k,
            max_new_tokens=config.rollout.max_new_tokens,
        )
        backend_kwargs: dict[str, Any] = {"batch_size": config.rollout.batch_size}
        if config.rollout.backend == "vllm":
            backend_kwargs = {"model_path": student_path, "llm_kwargs": dict(config.rollout.vllm)}
        self.rollout_backend = make_rollout_backend(
            config.rollout.backend,
            self.student.processor,
            self.sampling,
            nested_images=self.student.nested_images,
            **backend_kwargs,
        )

        optim = config.optim
        optimizer = torch.optim.AdamW(
            self.student.model.parameters(), lr=optim.lr, betas=optim.betas, weight_decay=optim.weight_decay
        )
        warmup = optim.warmup_steps
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda n: min(1.0, (n + 1) / warmup) if warmup else 1.0
        )
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

        source = records if records is not None else store_records(config)
        self.stream = PromptStream(
            source,
            negative=config.data.negative,
            strategies=config.data.strategies,
            seed=config.seed,
            shuffle_buffer=config.data.shuffle_buffer,
            rank=acc.process_index,
            world_size=world,
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
        )
        if self.validator is not None:
            self.validator.discard_after(keep_through)

    # ----------------------------------------------------------------------------------- prompts
    def _render(self, template: str, items: Sequence[PromptItem]) -> list[str]:
        tok = self.student.tokenizer
        return [
            render_prompt(tok, build_messages(template, it.question, self.templates.system)) for it in items
        ]

    # ------------------------------------------------------------------------------------ a step
    def _generation_context(self) -> contextlib.AbstractContextManager:
        from accelerate.utils import DistributedType

        if self.accelerator.distributed_type == DistributedType.FSDP:
            from torch.distributed.fsdp import FullyShardedDataParallel

            if isinstance(self.model, FullyShardedDataParallel):  # FSDP1: gather full weights to sample
                return FullyShardedDataParallel.summon_full_params(self.model, writeback=False)
        return contextlib.nullcontext()

    def train_step(self) -> dict[str, Any]:
        """One V-Zero step on this process's prompts; returns its (cross-process mean) metrics."""
        cfg, acc = self.config, self.accelerator
        times: dict[str, float] = dict.fromkeys(TIMERS, 0.0)
        items = self.stream.next_batch(cfg.prompts_per_step)
        student_prompts = self._render(self.templates.student, items)
        teacher_prompts = self._render(self.templates.teacher, items)
        unwrapped = acc.unwrap_model(self.model)

        t0 = time.perf_counter()
        unwrapped.eval()
        with self._generation_context(), acc.autocast():
            rollout: Rollout = self.rollout_backend.generate(
                unwrapped,
                student_prompts,
                [[it.image] for it in items],
                [it.index for it in items],
                seed=step_seed(cfg.seed, self.step, acc.process_index),
            )
        times["rollout"] = time.perf_counter() - t0

        rows = rollout.prompt_index
        row_items = [items[i] for i in rows]
        row_student = [student_prompts[i] for i in rows]
        row_teacher = [teacher_prompts[i] for i in rows]
        mask = rollout.response_mask
        replay = dict(micro_batch_size=cfg.replay_batch_size, chunk_size=cfg.logprob_chunk_size)

        def teacher_replay(views: list[Any]) -> torch.Tensor:
            """The teacher's log-probs of the sampled tokens with ``views[i]`` in the crop slot."""
            with acc.autocast():
                return replay_logprobs(
                    self.teacher.model,
                    self.teacher.processor,
                    row_teacher,
                    [[it.image, view] for it, view in zip(row_items, views, strict=True)],
                    rollout.response_ids,
                    nested_images=self.teacher.nested_images,
                    **replay,
                )

        t0 = time.perf_counter()
        l_plus = teacher_replay([it.positive for it in row_items])
        times["replay_positive"] = time.perf_counter() - t0
        l_minus = None
        if cfg.gate.enabled:
            t0 = time.perf_counter()
            l_minus = teacher_replay([it.negative for it in row_items])
            times["replay_negative"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        student_images = [[it.image] for it in row_items]
        old_logprobs = replay_logprobs(
            self.model,
            self.student.processor,
            row_student,
            student_images,
            rollout.response_ids,
            nested_images=self.student.nested_images,
            device=acc.device,
            **replay,
        )
        times["old_logprobs"] = time.perf_counter() - t0

        gate = cfg.gate
        if l_minus is not None:
            weights = evidence_weights(
                l_plus,
                l_minus,
                mask,
                rollout.group_ids,
                gamma=gate.gamma,
                alpha=gate.alpha,
                w_min=gate.w_min,
                w_max=gate.w_max,
                eps=gate.eps,
            )
        else:
            weights = torch.ones(len(rollout), dtype=torch.float32)
        advantages = opd_token_advantages(old_logprobs, l_plus, weights, mask, clamp=cfg.loss.clamp)

        t0 = time.perf_counter()
        self.model.train()
        update_stats = self._update(row_student, student_images, rollout, old_logprobs, advantages)
        times["update"] = time.perf_counter() - t0
        self.step += 1

        m = mask.bool()
        metrics: dict[str, Any] = {
            "opd/reverse_kl_k1": (old_logprobs - l_plus)[m].mean().item(),
            "opd/teacher_logprob": l_plus[m].mean().item(),
            "opd/student_logprob": old_logprobs[m].mean().item(),
            "rollout/response_length": rollout.lengths.float().mean().item(),
            **update_stats,
        }
        if l_minus is not None:
            metrics.update(
                gate_metrics(l_plus, l_minus, mask, weights, gamma=gate.gamma, w_min=gate.w_min, eps=gate.eps)
            )
        metrics.update({f"time/{k}": v for k, v in times.items()})
        metrics = self._mean_over_processes(metrics)
        metrics["lr"] = self.scheduler.get_last_lr()[0]
        metrics["data_position"] = self.stream.position
        return metrics

    def _update(
        self,
        prompts: list[str],
        images: list[list[Any]],
        rollout: Rollout,
        old_logprobs: torch.Tensor,
        advantages: torch.Tensor,
    ) -> dict[str, float]:
        """``num_mini_batches`` optimizer updates over the rollout, split by prompt (groups stay whole)."""
        cfg, acc = self.config, self.accelerator
        G = self.sampling.group_size
        rows_per_mb = self.prompts_per_rank // cfg.num_mini_batches * G
        sums: dict[str, float] = defaultdict(float)
        counts: dict[str, int] = defaultdict(int)
        for mb_start in range(0, len(rollout), rows_per_mb):
            mb = slice(mb_start, mb_start + rows_per_mb)
            mask = rollout.response_mask[mb]
            coefficients = token_weights(mask, rollout.group_ids[mb], cfg.loss.aggregation)
            finite, mb_loss = True, 0.0
            micro_starts = list(range(mb_start, mb.stop, cfg.micro_batch_size))
            for n, start in enumerate(micro_starts):
                stop = min(start + cfg.micro_batch_size, mb.stop)
                sync = contextlib.nullcontext() if n == len(micro_starts) - 1 else acc.no_sync(self.model)
                with sync:
                    enc = encode_prompts(
                        self.student.processor,
                        prompts[start:stop],
                        images[start:stop],
                        nested_images=self.student.nested_images,
                    ).to(acc.device)
                    with acc.autocast():
                        logprobs = response_logprobs(
                            self.model,
                            enc,
                            rollout.response_ids[start:stop].to(acc.device),
                            chunk_size=cfg.logprob_chunk_size,
                        )
                    loss, stats = policy_loss(
                        logprobs,
                        old_logprobs[start:stop].to(acc.device),
                        advantages[start:stop].to(acc.device),
                        coefficients[start - mb_start : stop - mb_start].to(acc.device),
                        clip_ratio=cfg.loss.clip_ratio,
                        dual_clip=cfg.loss.dual_clip,
                    )
                    finite = finite and bool(torch.isfinite(loss))
                    acc.backward(loss)
                mb_loss += loss.item()
                for key, value in stats.items():
                    sums[key] += value
                    counts[key] += 1
            sums["loss/policy"] += mb_loss
            counts["loss/policy"] += 1
            grad_norm = acc.clip_grad_norm_(self.model.parameters(), cfg.optim.grad_clip)
            grad_norm = float(grad_norm) if grad_norm is not None else float("nan")
            bad = torch.tensor(0.0 if finite and math.isfinite(grad_norm) else 1.0, device=acc.device)
            if acc.reduce(bad, reduction="sum").item() > 0:
                logger.warning(
                    "step %d: non-finite loss or gradient norm (%s); skipping this update",
                    self.step + 1,
                    grad_norm,
                )
                self.optimizer.zero_grad(set_to_none=True)
                sums["skipped_updates"] += 1
                continue
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.teacher.update(acc.unwrap_model(self.model))
            sums["grad_norm"] += grad_norm
            counts["grad_norm"] += 1
        out = {key: value / counts[key] if counts[key] else value for key, value in sums.items()}
        out.setdefault("skipped_updates", 0.0)
        return out

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

    def train(self, steps: int | None = None) -> TrainResult:
        """Run until ``steps`` (default: the recipe's ``steps``) total steps are done, checkpointing
        every ``save_every`` steps and at the end, validating at the steps ``validation_due`` names."""
        from tqdm.auto import tqdm

        cfg, acc = self.config, self.accelerator
        total = cfg.steps if steps is None else steps
        history: list[dict[str, Any]] = []
        bar = tqdm(
            total=total,
            initial=self.step,
            desc="vzero-train",
            disable=not acc.is_main_process,
            dynamic_ncols=True,
        )
        if self.step == 0 and total > 0:
            self.preflight()
        try:
            if self.step == 0 and validation_due(cfg.validation, 0, total):
                metrics = self.validate()
                if metrics:
                    history.append({"step": 0, **metrics})
                    self.metrics.log(0, metrics)
            while self.step < total:
                metrics = self.train_step()
                evaluated = validation_due(cfg.validation, self.step, total)
                if evaluated:  # before the checkpoint: a checkpoint at step N implies its evaluation
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
                    self.save()
        finally:
            bar.close()
            self.metrics.close()
        return TrainResult(self.step, self.output_dir, self.last_checkpoint, history)


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
    return Trainer(config, records=records, resume=resume).train(steps)
