"""Does on-policy distillation teach a learnable student, and which update makes it teach?

The world is ``big_small`` (``vzero_data.synth.big_small``): a tiny student learns it from full
images. A tiny teacher is trained by SFT on full image + positive crop, a base student by SFT on
full images; then each variant continues the base student for the same number of OPD steps (no
answer read) on fresh scenes, through the project's own ``Trainer``, and is scored on held-out
scenes by option log-probability (the option the model scores highest; no generation noise).
Labelled SFT with the same prompts budget is the ceiling ("sft" variant).

Every (variant, seed) result is appended to ``WORK/results.jsonl`` and kept: a rerun computes only
what is missing. ``--report`` prints each variant's accuracy per seed, its mean, and its paired
difference to ``--against`` (by seed) with a t interval over seeds and the crossed bootstrap over
seeds and items.

usage: python benchmarks/opd_variants.py --work /tmp/opd --variants plain,full --seeds 0-5
       python benchmarks/opd_variants.py --work /tmp/opd --report [--against plain] [--split test]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

# The base setting of every OPD variant: the student and teacher are filled in; a variant overrides.
BASE_TRAIN: dict[str, Any] = {
    "data": {"negative": "distractor", "shuffle_buffer": 1},
    "rollout": {"group_size": 4, "max_new_tokens": 4, "temperature": 1.0},
    "prompts_per_step": 8,
    "num_mini_batches": 1,
    "micro_batch_size": 32,
    "replay_batch_size": 32,
    "optim": {"lr": 5e-4},
    "steps": 60,
    "save_every": 1000,
    "keep_last": 1,
    "device": "cpu",
    "tensorboard": False,
}

VARIANTS: dict[str, dict[str, Any]] = {
    # the paper's update at this scale: sampled-token k1, no baseline, gate off (plain) or on
    "plain": {"gate": {"enabled": False}},
    "gate": {"gate": {"enabled": True}},
    # a per-group baseline on the k1 sequence advantage
    "plain_baseline": {"gate": {"enabled": False}, "loss": {"baseline": "group_mean"}},
    "plain_loo": {"gate": {"enabled": False}, "loss": {"baseline": "leave_one_out"}},
    "gate_baseline": {"gate": {"enabled": True}, "loss": {"baseline": "group_mean"}},
    # the reverse KL over the teacher's whole distribution / top-k at the sampled positions
    "plain_full": {"gate": {"enabled": False}, "loss": {"estimator": "full"}},
    "gate_full": {"gate": {"enabled": True}, "loss": {"estimator": "full"}},
    "plain_top4": {"gate": {"enabled": False}, "loss": {"estimator": "topk", "topk": 4}},
    # warm-up and decay, a looser gradient clip, more prompts and two mini-batches (same budget)
    "plain_sched": {"gate": {"enabled": False}, "optim": {"warmup_steps": 6, "schedule": "cosine"}},
    "plain_clip10": {"gate": {"enabled": False}, "optim": {"grad_clip": 10.0}},
    "plain_2mb": {"gate": {"enabled": False}, "prompts_per_step": 16, "num_mini_batches": 2, "steps": 30},
    "plain_t07": {"gate": {"enabled": False}, "rollout": {"temperature": 0.7}},
    # the learning rate of the students' own SFT, warm-up and cosine decay
    "full_lr2e3": {
        "gate": {"enabled": False},
        "loss": {"estimator": "full"},
        "optim": {"lr": 2e-3, "warmup_steps": 6, "schedule": "cosine"},
    },
    "full_g2_p16": {
        "gate": {"enabled": False},
        "loss": {"estimator": "full"},
        "rollout": {"group_size": 2},
        "prompts_per_step": 16,
        "optim": {"lr": 2e-3, "warmup_steps": 6, "schedule": "cosine"},
    },
    # twice the prompts per step at half the samples per prompt (the distribution loss reads every
    # vocabulary entry at each sampled position, so G matters less), 120 steps: 1920 prompts
    "full_g2_p16_120": {
        "gate": {"enabled": False},
        "loss": {"estimator": "full"},
        "rollout": {"group_size": 2},
        "prompts_per_step": 16,
        "steps": 120,
        "optim": {"lr": 5e-4, "warmup_steps": 10, "schedule": "cosine", "min_lr_ratio": 0.1},
    },
    "gate_full_g2_p16_120": {
        "gate": {"enabled": True},
        "loss": {"estimator": "full"},
        "rollout": {"group_size": 2},
        "prompts_per_step": 16,
        "steps": 120,
        "optim": {"lr": 5e-4, "warmup_steps": 10, "schedule": "cosine", "min_lr_ratio": 0.1},
    },
    "plain_g2_p16_120": {
        "gate": {"enabled": False},
        "rollout": {"group_size": 2},
        "prompts_per_step": 16,
        "steps": 120,
        "optim": {"lr": 5e-4, "warmup_steps": 10, "schedule": "cosine", "min_lr_ratio": 0.1},
    },
    "sft_p16_120": {
        "kind": "sft",
        "prompts_per_step": 16,
        "steps": 120,
        "optim": {"lr": 5e-4, "warmup_steps": 10, "schedule": "cosine", "min_lr_ratio": 0.1},
    },
    "sft_lr2e3": {"kind": "sft", "optim": {"lr": 2e-3, "warmup_steps": 6, "schedule": "cosine"}},
    "sft_p16_lr2e3": {
        "kind": "sft",
        "prompts_per_step": 16,
        "optim": {"lr": 2e-3, "warmup_steps": 6, "schedule": "cosine"},
    },
    # labelled SFT on the same scenes, batch and learning rate: the ceiling at this budget
    "sft": {"kind": "sft"},
}


@dataclass(frozen=True)
class Record:
    """A scene as training and evaluation read it (the trainer's RecordLike plus the label)."""

    sample_id: str
    question: str
    image: Any
    positive: Any
    negatives: dict[str, Any]
    eval_options: tuple[str, ...]
    eval_answer: str
    target_box: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def make_record(seed: int, index: int) -> Record:
    """Scene ``index`` of family ``seed`` with the positive crop and the negative views the sandbox
    stores, made by the project's own view functions."""
    from PIL import Image

    from vzero_data.synth import make_big_small_scene
    from vzero_data.views import CropPolicy, negative_view, positive_view, view_seed

    scene = make_big_small_scene(seed, index)
    pixels = np.asarray(scene.image)
    sid = f"bs-{seed}-{index}"
    box = scene.target.box
    pos = positive_view(
        pixels, box, CropPolicy(margin_ratio=0.2, min_side=16), seed=view_seed(sid, "crop", 0)
    )
    negatives = {}
    from vzero_data.views import ViewRejected

    for name in ("distractor", "downsampled_distractor", "masked", "degraded"):
        try:
            view = negative_view(name, pixels, box, None, view_seed(sid, name, 0), positive=pos)
        except ViewRejected:  # a big target leaves no room for some windows; curation rejects them too
            continue
        negatives[name] = Image.fromarray(view.pixels)
    d = scene.objects[0].box  # the distractor object itself, cropped like the positive
    dview = positive_view(pixels, d, CropPolicy(margin_ratio=0.2, min_side=16), seed=0)
    negatives["distractor_object"] = Image.fromarray(dview.pixels)
    return Record(
        sid,
        scene.question,
        scene.image,
        Image.fromarray(pos.pixels),
        negatives,
        scene.options,
        scene.answer,
        box,
        {"distractor_colour": scene.objects[0].color},
    )


def stream(seed: int):
    """A re-iterable source of fresh scenes (family ``seed``): one pass never repeats a scene. A scene
    whose ``distractor`` view has no room (a big target) is passed over, as training from a store
    skips a sample lacking the named view."""

    def records():
        index = 0
        while True:
            record = make_record(seed, index)
            index += 1
            if "distractor" in record.negatives:  # as a store's reader skips samples lacking the view
                yield record

    return records


def option_accuracy(vlm: Any, records: list[Record], images: str = "full") -> dict[str, float]:
    """Share of records whose answer is the option with the highest summed log-prob, the mean
    log-prob of the right option, and the share that picks the distractor's colour."""
    from vzero_core.prompt_text import sample_options, sample_question
    from vzero_core.vlm.prompts import PromptTemplates, build_messages, encode_prompts, render_prompt
    from vzero_core.vlm.replay import response_logprobs
    from vzero_train.sft_loss import answer_token_ids

    templates = PromptTemplates()
    model = vlm.model
    model.eval()
    device = next(model.parameters()).device
    correct = distractor = 0
    right_lp = 0.0
    outcomes: list[bool] = []
    with torch.no_grad():
        for k in range(0, len(records), 25):
            batch = records[k : k + 25]
            prompts, image_lists, answers = [], [], []
            for r in batch:
                options = sample_options(r.eval_options, r.sample_id)
                question = sample_question(r.question, r.eval_options, r.sample_id)
                template = templates.student if images == "full" else templates.teacher
                prompt = render_prompt(vlm.tokenizer, build_messages(template, question, templates.system))
                views = [r.image] if images == "full" else [r.image, images_for(r, images)]
                for option in options:
                    prompts.append(prompt)
                    image_lists.append(views)
                    answers.append(option)
            enc = encode_prompts(vlm.processor, prompts, image_lists, nested_images=vlm.nested_images).to(
                device
            )
            ids, mask = answer_token_ids(vlm.tokenizer, answers)
            scores = (response_logprobs(model, enc, ids.to(device)).cpu() * mask).sum(-1)
            scores = scores.view(len(batch), -1)
            for r, row in zip(batch, scores, strict=True):
                options = sample_options(r.eval_options, r.sample_id)
                pick = options[int(row.argmax())]
                correct += pick == r.eval_answer
                outcomes.append(pick == r.eval_answer)
                distractor += pick == r.extra["distractor_colour"]
                right_lp += float(torch.log_softmax(row, 0)[options.index(r.eval_answer)])
    n = len(records)
    return {
        "accuracy": correct / n,
        "distractor": distractor / n,
        "right_logprob": right_lp / n,
        "n": n,
        "correct": outcomes,
    }


def images_for(record: Record, view: str) -> Any:
    return record.positive if view == "positive" else record.negatives[view]


def sft(work: Path, role: str, steps: int, seed: int, lr: float, inputs: str) -> Path:
    """Train (or reuse) the teacher or the base student by SFT on fresh scenes; its model folder."""
    from vzero_train.checkpoint import latest_checkpoint
    from vzero_train.sft import SFTTrainer
    from vzero_train.sft_config import SFTConfig

    out = work / role
    done = latest_checkpoint(out)
    if done is not None and json.loads((done / "trainer_state.json").read_text())["step"] >= steps:
        return done / "model"
    config = SFTConfig(
        output_dir=str(out),
        model="tiny:qwen3_vl",
        tiny={"hidden_size": 128, "num_layers": 2, "image_size": 128},
        inputs=inputs,
        steps=steps,
        batch_size=16,
        optim={"lr": lr, "warmup_steps": 30},
        save_every=steps,
        keep_last=1,
        seed=seed,
        device="cpu",
    )
    trainer = SFTTrainer(config, records=stream(1000 + seed))
    trainer.train(progress=False)
    return latest_checkpoint(out) / "model"


def deep_update(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            deep_update(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def run_variant(work: Path, name: str, seed: int, models: dict[str, Path], steps: int | None) -> Path:
    """Continue the base student with variant ``name`` (OPD, or labelled SFT for ``sft``); the
    final model folder."""
    from vzero_train.checkpoint import latest_checkpoint

    out = work / "runs" / name / f"seed{seed}"
    spec = VARIANTS[name]
    total = steps or spec.get("steps", BASE_TRAIN["steps"])
    if spec.get("kind") == "sft":
        from vzero_train.sft import SFTTrainer
        from vzero_train.sft_config import SFTConfig

        per_step = spec.get("prompts_per_step", BASE_TRAIN["prompts_per_step"])
        config = SFTConfig(
            output_dir=str(out),
            model=str(models["student"]),
            inputs="full",
            steps=total,
            batch_size=per_step,
            optim=spec.get("optim", BASE_TRAIN["optim"]),
            save_every=total,
            keep_last=1,
            seed=seed,
            device="cpu",
        )
        SFTTrainer(config, records=stream(2000 + seed)).train(progress=False)
        return latest_checkpoint(out) / "model"
    from vzero_train.config import TrainConfig
    from vzero_train.trainer import Trainer

    settings = deep_update(BASE_TRAIN, {k: v for k, v in spec.items() if k != "kind"})
    settings.update(
        student=str(models["student"]),
        teacher={"kind": "external", "path": str(models["teacher"])},
        output_dir=str(out),
        steps=total,
        save_every=total,
        seed=seed,
    )
    from vzero_core.progress import progress_disabled

    with progress_disabled():
        Trainer(TrainConfig.model_validate(settings), records=stream(2000 + seed)).train()
    return latest_checkpoint(out) / "model"


def evaluate(path: Path, records: list[Record]) -> dict[str, float]:
    from vzero_core.vlm.models import load_vlm

    return option_accuracy(load_vlm(path, device="cpu", dtype="float32"), records)


def parse_seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = (int(v) for v in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(v) for v in text.split(",")]


def report(work: Path, against: str, split: str, only: list[str] | None = None) -> None:
    """Per variant: accuracy per seed, mean, and the paired difference to ``against`` (by seed) with
    a t interval over seeds and, where per-item answers were kept, the crossed bootstrap over seeds
    and items (``vzero_train.sandbox.stats.paired_difference``). ``against`` may be ``base``."""
    from scipy import stats as st

    from vzero_train.sandbox.stats import paired_difference

    rows = [json.loads(line) for line in (work / "results.jsonl").read_text().splitlines() if line.strip()]
    base = json.loads((work / "base.json").read_text())
    print(
        f"base student ({split}): {base[split]['accuracy']:.3f}; teacher with crop {base['teacher']['accuracy']:.3f}"
    )
    by_variant: dict[str, dict[int, dict[str, Any]]] = {}
    for r in rows:
        if only is None or r["variant"] in only or r["variant"] == against:
            by_variant.setdefault(r["variant"], {})[r["seed"]] = r
    if against == "base":
        seeds = sorted({s for runs in by_variant.values() for s in runs})
        ref = {s: {split: base[split]} for s in seeds}
    else:
        ref = by_variant.get(against, {})

    def outcomes(runs: dict[int, dict[str, Any]], seeds: list[int]) -> dict[tuple[int, str], bool] | None:
        if not all("correct" in runs[s][split] for s in seeds):
            return None
        return {(s, str(i)): ok for s in seeds for i, ok in enumerate(runs[s][split]["correct"])}

    print(
        f"{'variant':<24} {'seeds':>5} {'mean':>6}  {'per seed':<48} {'minus ' + against + ' (t over seeds; bootstrap)':>40}"
    )
    order = sorted(
        by_variant.items(), key=lambda kv: -np.mean([r[split]["accuracy"] for r in kv[1].values()])
    )
    for name, runs in order:
        accs = [runs[s][split]["accuracy"] for s in sorted(runs)]
        line = f"{name:<24} {len(accs):>5} {np.mean(accs):6.3f}  {' '.join(f'{a:.3f}' for a in accs):<48}"
        shared = sorted(set(runs) & set(ref))
        if name != against and len(shared) >= 2:
            d = np.array([runs[s][split]["accuracy"] - ref[s][split]["accuracy"] for s in shared])
            half = st.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
            line += f" {d.mean():+.3f} [{d.mean() - half:+.3f}, {d.mean() + half:+.3f}]"
            a, b = outcomes(runs, shared), outcomes(ref, shared)
            if a is not None and b is not None:
                boot = paired_difference(a, b)
                line += f"; [{boot['ci_low']:+.3f}, {boot['ci_high']:+.3f}] p={boot['p_value']:.2g}"
        print(line)


def rescore(work: Path, splits: dict[str, list[Record]]) -> None:
    """Evaluate again every finished run whose results lack per-item answers (from its final model)."""
    from vzero_train.checkpoint import latest_checkpoint

    path = work / "results.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    base_file = work / "base.json"
    base = json.loads(base_file.read_text())
    if any("correct" not in base[s] for s in splits):
        student = latest_checkpoint(work / "student") / "model"
        base.update({s: evaluate(student, recs) for s, recs in splits.items()})
        base_file.write_text(json.dumps(base, indent=1))
    for row in rows:
        if all("correct" in row[s] for s in splits):
            continue
        final = latest_checkpoint(work / "runs" / row["variant"] / f"seed{row['seed']}") / "model"
        row.update({s: evaluate(final, recs) for s, recs in splits.items()})
        print(f"rescored {row['variant']} seed {row['seed']}", flush=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, required=True, help="folder of the models and results (kept)")
    parser.add_argument("--variants", default="plain", help=f"comma-separated, of: {', '.join(VARIANTS)}")
    parser.add_argument("--seeds", default="0-3", help="e.g. 0-5 or 0,2,4")
    parser.add_argument("--steps", type=int, help="OPD steps (default: the variant's, else 60)")
    parser.add_argument("--teacher-steps", type=int, default=150)
    parser.add_argument("--student-steps", type=int, default=100)
    parser.add_argument("--test", type=int, default=300, help="held-out test scenes (default 300)")
    parser.add_argument("--val", type=int, default=200, help="validation scenes (default 200)")
    parser.add_argument("--report", action="store_true", help="print the table of what is in --work")
    parser.add_argument(
        "--against", default="plain", help="the reference of the paired differences (or base)"
    )
    parser.add_argument("--only", help="--report: these variants only (comma-separated)")
    parser.add_argument(
        "--rescore", action="store_true", help="re-evaluate runs kept without per-item answers"
    )
    parser.add_argument("--split", choices=("val", "test"), default="val")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    if args.report:
        report(work, args.against, args.split, args.only.split(",") if args.only else None)
        return

    splits = {
        "val": [make_record(98, i) for i in range(args.val)],
        "test": [make_record(99, i) for i in range(args.test)],
    }
    if args.rescore:
        rescore(work, splits)
        return
    t0 = time.perf_counter()
    models = {
        "teacher": sft(work, "teacher", args.teacher_steps, 1, 2e-3, "full_and_positive"),
        "student": sft(work, "student", args.student_steps, 2, 2e-3, "full"),
    }
    base_file = work / "base.json"
    if not base_file.is_file():
        from vzero_core.vlm.models import load_vlm

        teacher = load_vlm(models["teacher"], device="cpu", dtype="float32")
        base = {split: evaluate(models["student"], recs) for split, recs in splits.items()}
        base["teacher"] = option_accuracy(teacher, splits["val"], images="positive")
        base["teacher_distractor"] = option_accuracy(teacher, splits["val"], images="distractor_object")
        for view in ("distractor", "masked", "degraded"):
            base[f"teacher_{view}"] = option_accuracy(teacher, splits["val"], images=view)
        base["teacher_full_only"] = option_accuracy(teacher, splits["val"])
        base_file.write_text(json.dumps(base, indent=1))
        print(json.dumps({"base": base, "seconds": round(time.perf_counter() - t0)}), flush=True)
    results = work / "results.jsonl"
    done = set()
    if results.is_file():
        done = {(r["variant"], r["seed"]) for r in map(json.loads, results.read_text().splitlines()) if r}
    for seed in parse_seeds(args.seeds):
        for name in args.variants.split(","):
            if (name, seed) in done:
                continue
            t1 = time.perf_counter()
            final = run_variant(work, name, seed, models, args.steps)
            row = {"variant": name, "seed": seed, **{s: evaluate(final, recs) for s, recs in splits.items()}}
            row["seconds"] = round(time.perf_counter() - t1)
            with open(results, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
