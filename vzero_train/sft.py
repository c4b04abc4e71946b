"""Supervised fine-tuning over store records: (images, question) -> the reference answer.

V-Zero itself never reads an answer; SFT is the supervised piece around it: a base student trained
briefly on a small labelled set, or a teacher trained to answer from the positive crop (the
sandbox's tiny models start from scratch). It shares the OPD trainer's parts: models load through
:func:`vzero_core.vlm.models.load_vlm`, prompts are rendered by the same templates with the question
text evaluation asks (:func:`vzero_core.prompt_text.sample_question`: options in the order fixed by the
sample id), answers are scored by
the replay code (:mod:`vzero_train.sft_loss`), checkpoints have the trainer's layout (``model/``
loads in ``vzero-train eval``) and a rerun resumes from the newest one, data position included.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from vzero_core.prompt_text import sample_options, sample_question
from vzero_core.stage_times import StageTimes
from vzero_core.vlm.models import load_vlm
from vzero_core.vlm.prompts import PromptTemplates, build_messages, render_prompt
from vzero_data.benchmarks.items import LETTERS, answer_letter
from vzero_train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from vzero_train.config import TINY_PREFIX
from vzero_train.data import DataError, RecordSource, endless_passes
from vzero_train.metrics import MetricsLogger
from vzero_train.schedule import make_scheduler
from vzero_train.sft_config import SFTConfig
from vzero_train.sft_loss import answer_nll, answer_token_ids

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SFTExample:
    """One supervised example: the question text as evaluation asks it, images in template order,
    and the target answer text."""

    sample_id: str
    question: str
    images: tuple[Any, ...]
    answer: str


def to_sft_example(record: Any, *, inputs: str, answer: str) -> SFTExample:
    """An example from a store record (``eval_answer``/``eval_options`` must be set)."""
    sid = getattr(record, "sample_id", "?")
    if not str(record.question or "").strip():
        raise DataError(f"sample {sid}: empty question")
    if record.eval_answer is None or not str(record.eval_answer).strip():
        raise DataError(f"sample {sid}: no answer to train on (SFT needs labelled records)")
    options = sample_options(record.eval_options, sid)
    if options:
        letter = answer_letter(str(record.eval_answer), options, f"sample {sid}")
        target = letter if answer == "letter" else options[LETTERS.index(letter)]
    else:
        target = str(record.eval_answer).strip()
    images = (record.image,) if inputs == "full" else (record.image, record.positive)
    if any(im is None for im in images):
        raise DataError(f"sample {sid}: missing {'image' if images[0] is None else 'positive'} view")
    return SFTExample(
        sample_id=sid,
        question=sample_question(record.question, record.eval_options, sid),
        images=tuple(im.convert("RGB") if getattr(im, "mode", "RGB") != "RGB" else im for im in images),
        answer=target,
    )


def sft_store_records(config: SFTConfig) -> RecordSource:
    """The labelled records of the recipe's store (no negatives needed)."""
    if not config.store:
        raise ValueError("the sft recipe names no store (sft.store or a top-level store: path)")
    from vzero_data.store import open_store, require_one_config

    data = config.data
    require_one_config(open_store(config.store), data.config_hash, how="sft.data.config_hash")
    extra = {"positive_strategy": data.positive_strategy} if data.positive_strategy else {}

    def records():
        return open_store(config.store).iter_training_records(
            strategies=[], config_hash=data.config_hash, limit=data.limit, require_all=False, **extra
        )

    return records


def materialize_sft_model(config: SFTConfig, output_dir: Path) -> str:
    """A model path for ``config.model``; ``tiny:<family>`` builds a random one under the run folder."""
    if not config.model.startswith(TINY_PREFIX):
        return config.model
    from vzero_core.tiny_models import save_tiny_vlm

    family = config.model[len(TINY_PREFIX) :]
    path = output_dir / "models" / family
    if not (path / "config.json").is_file():
        tiny = config.tiny
        save_tiny_vlm(
            family,
            path,
            hidden_size=tiny.hidden_size,
            num_layers=tiny.num_layers,
            image_size=tiny.image_size,
            seed=config.seed,
        )
    return str(path)


@dataclass
class SFTResult:
    step: int
    output_dir: Path
    checkpoint: Path | None
    history: list[dict[str, Any]] = field(default_factory=list)
    times: StageTimes = field(default_factory=StageTimes)  # wall time per stage of this call


class SFTTrainer:
    """Builds the model, optimizer and data for an :class:`SFTConfig`; :meth:`train` runs it."""

    def __init__(
        self, config: SFTConfig, *, records: RecordSource | None = None, resume: bool = True
    ) -> None:
        from accelerate import Accelerator

        self.config = config
        self.output_dir = Path(config.output_dir)
        self.accelerator = acc = Accelerator(cpu=config.device == "cpu", step_scheduler_with_optimizer=False)
        if acc.num_processes != 1:
            raise ValueError(
                "vzero-train sft runs in one process (tiny and small models); launch it without accelerate"
            )
        torch.manual_seed(config.seed)
        self.vlm = load_vlm(
            materialize_sft_model(config, self.output_dir),
            device=str(acc.device),
            dtype="float32",
            trainable=True,
        )
        self.templates = PromptTemplates(
            config.prompts.student, config.prompts.teacher, config.prompts.system
        )
        optim = config.optim
        optimizer = torch.optim.AdamW(
            self.vlm.model.parameters(), lr=optim.lr, betas=optim.betas, weight_decay=optim.weight_decay
        )
        scheduler = make_scheduler(optimizer, optim, config.steps)
        self.model, self.optimizer, self.scheduler = acc.prepare(self.vlm.model, optimizer, scheduler)
        self.step, position = 0, 0
        checkpoint = latest_checkpoint(self.output_dir) if resume else None
        if checkpoint is not None:
            state, _ = load_checkpoint(acc, checkpoint)
            self.step, position = int(state["step"]), int(state["data_position"])
            logger.info("resumed SFT from %s (step %d)", checkpoint, self.step)
        self.last_checkpoint = checkpoint
        self.position = position
        self._records = endless_passes(
            records if records is not None else sft_store_records(config),
            config.seed,
            config.data.shuffle_buffer,
        )
        for _ in range(position):
            next(self._records)
        self.metrics = MetricsLogger(
            self.output_dir,
            tensorboard=config.tensorboard,
            resume_step=self.step if checkpoint is not None else -1,
            report_to=config.report_to,
            params=config.model_dump(mode="json"),
        )

    def _examples(self, n: int) -> list[SFTExample]:
        out = []
        for _ in range(n):
            out.append(
                to_sft_example(next(self._records), inputs=self.config.inputs, answer=self.config.answer)
            )
            self.position += 1
        return out

    def _prompt(self, example: SFTExample) -> str:
        template = self.templates.student if self.config.inputs == "full" else self.templates.teacher
        return render_prompt(
            self.vlm.tokenizer, build_messages(template, example.question, self.templates.system)
        )

    def train_step(self) -> dict[str, float]:
        """One optimizer update over ``batch_size`` examples (token-mean NLL of the answers)."""
        cfg, acc = self.config, self.accelerator
        examples = self._examples(cfg.batch_size)
        self.model.train()
        answers = [e.answer for e in examples]
        tokens = max(1, int(answer_token_ids(self.vlm.tokenizer, answers)[1].sum().item()))
        total = 0.0
        micro = cfg.micro_batch_size or cfg.batch_size
        for start in range(0, len(examples), micro):
            chunk = examples[start : start + micro]
            with acc.autocast():
                nll, _ = answer_nll(
                    self.model,
                    self.vlm.processor,
                    [self._prompt(e) for e in chunk],
                    [list(e.images) for e in chunk],
                    answers[start : start + micro],
                    nested_images=self.vlm.nested_images,
                )
            acc.backward(nll / tokens)  # token mean over the whole batch
            total += float(nll.item())
        total /= tokens
        grad_norm = float(acc.clip_grad_norm_(self.model.parameters(), cfg.optim.grad_clip))
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return {
            "loss/sft": total,
            "grad_norm": grad_norm,
            "lr": self.scheduler.get_last_lr()[0],
            "data_position": self.position,
        }

    def save(self) -> Path:
        self.last_checkpoint = save_checkpoint(
            self.accelerator,
            self.output_dir,
            self.step,
            model=self.model,
            processor=self.vlm.processor,
            data_position=self.position,
            extra={
                "kind": "sft",
                "model": self.config.model,
                "inputs": self.config.inputs,
                "seed": self.config.seed,
            },
            keep_last=self.config.keep_last,
        )
        return self.last_checkpoint

    def train(
        self, steps: int | None = None, *, progress: bool = True, times: StageTimes | None = None
    ) -> SFTResult:
        from vzero_core.progress import progress_bar

        times = times if times is not None else StageTimes()
        cfg = self.config
        total = cfg.steps if steps is None else steps
        history: list[dict[str, Any]] = []
        bar = progress_bar(
            total=total, initial=self.step, desc="vzero-train sft", unit="step", enabled=progress
        )
        try:
            while self.step < total:
                with times.stage("steps", show=False):
                    metrics = self.train_step()
                history.append({"step": self.step, **metrics})
                if self.step % cfg.log_every == 0 or self.step == total:
                    self.metrics.log(self.step, metrics)
                bar.update(1)
                bar.set_postfix(loss=f"{metrics['loss/sft']:.3f}")
                if self.step % cfg.save_every == 0 or self.step == total:
                    with times.stage("checkpoints", show=False):
                        self.save()
        finally:
            bar.close()
            self.metrics.close()
        return SFTResult(self.step, self.output_dir, self.last_checkpoint, history, times=times)


def train_sft(
    config: SFTConfig,
    *,
    records: RecordSource | None = None,
    steps: int | None = None,
    resume: bool = True,
    progress: bool = True,
) -> SFTResult:
    """Supervised fine-tuning, resuming from the newest checkpoint under ``config.output_dir``."""
    times = StageTimes()
    with times.stage("load model", show=progress):
        trainer = SFTTrainer(config, records=records, resume=resume)
    return trainer.train(steps, progress=progress, times=times)
