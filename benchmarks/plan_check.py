"""Check `vzero-train plan` against measured GPU memory, component by component (needs a CUDA GPU).

Builds the recipe's student and teacher from the shipped architecture configs with random weights
(nothing is downloaded), runs the memory-relevant pieces of a training step on one GPU as the trainer
does them, and prints torch.cuda.max_memory_allocated for each next to the plan's prediction for the
same sizes (one process, no sharding), and their ratio:

- student weights: the float32 student built on the GPU;
- update: one micro-batch forward and backward under bf16 autocast with gradient checkpointing,
  chunked log-softmax over the response (gradients, activations, logits);
- optimizer: AdamW's state, allocated by the first step;
- rollout: `generate` of the step's rows under bf16 autocast (the KV cache), every row forced to
  `--max-new-tokens` new tokens;
- teacher weights: the bf16 teacher;
- replay: a teacher forward over `replay_batch_size` rows of full image + crop + response, with its
  KV cache and the response logits, then the chunked log-softmax.

Every component runs in its own try block; what ran is printed and written to OUT/plan_check.json
even when a later one fails. The image size must be a multiple of 32 px on both sides (whole 2x2
blocks of 16 px patches) within the processor's pixel bounds, so the grid needs no resize.

  python benchmarks/plan_check.py --recipe qwen3vl_2b_from_8b --out plan_check_out
  python benchmarks/plan_check.py --recipe qwen35_4b_from_27b --out out --max-new-tokens 256
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GB = 1e9
DEVICE = "cuda"  # --device cpu: a smoke run of the code paths on tiny local models (no memory figures)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--recipe", default="qwen3vl_2b_from_8b", help="a shipped recipe name or a recipe file")
    p.add_argument("--out", required=True, help="folder for plan_check.json")
    p.add_argument("--image-size", default="1280x960", help="full image WxH (views are half of it)")
    p.add_argument(
        "--max-new-tokens", type=int, default=512, help="response length of every row (plan uses the same)"
    )
    p.add_argument(
        "--prompts", type=int, default=4, help="prompts of the rollout (x group_size rows), as per process"
    )
    p.add_argument("--text-tokens", type=int, default=256, help="text tokens per prompt")
    p.add_argument("--skip", nargs="*", default=[], help="components to skip: update rollout replay")
    p.add_argument("--device", default="cuda", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def build(config_dir: Path, dtype: Any) -> Any:
    """A model from a config folder with random weights, created directly on the GPU in ``dtype``."""
    from benchmarks.device.random_models import build_random

    return build_random(config_dir, DEVICE, dtype)


def image_block(
    config: Any, width: int, height: int, patch: int = 16, merge: int = 2
) -> tuple[list[int], Any, Any]:
    """The ids of one image (start, pads, end), its random patches and its grid, as the processor
    would give them for a WxH image that needs no resize."""
    import torch

    if width % (patch * merge) or height % (patch * merge):
        raise ValueError(f"image size {width}x{height}: both sides must be multiples of {patch * merge} px")
    gh, gw = height // patch, width // patch
    tokens = gh * gw // merge**2
    ids = [config.vision_start_token_id] + [config.image_token_id] * tokens + [config.vision_end_token_id]
    pixels = torch.randn(gh * gw, 3 * 2 * patch * patch, device=DEVICE)
    grid = torch.tensor([[1, gh, gw]], device=DEVICE)
    return ids, pixels, grid


def batch(
    config: Any, rows: int, text: int, images: list[tuple[int, int]], response: int = 0
) -> tuple[dict[str, Any], Any]:
    """``rows`` identical-length rows: ``text`` random text tokens, each image's block, and a
    random ``response`` of that many tokens (plain text ids, none an image token)."""
    import torch

    ids: list[int] = []
    pixels, grids = [], []
    for width, height in images:
        block, pix, grid = image_block(config, width, height)
        ids += block
        pixels.append(pix)
        grids.append(grid)
    gen = torch.Generator().manual_seed(0)
    specials = (config.image_token_id, config.vision_start_token_id, config.vision_end_token_id)
    # plain text ids: clear of the image token ids (at the top of a real Qwen vocabulary)
    low = 10 if min(specials) >= 1000 else max(specials) + 1
    high = min(low + 1000, config.get_text_config().vocab_size)
    prompt = torch.randint(low, high, (text,), generator=gen).tolist() + ids
    input_ids = torch.tensor([prompt] * rows, device=DEVICE)
    resp = torch.randint(low, high, (rows, response), generator=gen).to(DEVICE)
    out = {
        "input_ids": torch.cat([input_ids, resp], dim=1),
        "attention_mask": torch.ones(rows, input_ids.shape[1] + response, dtype=torch.long, device=DEVICE),
        "pixel_values": torch.cat(pixels * rows),
        "image_grid_thw": torch.cat(grids * rows),
    }
    return out, resp


def with_token_types(model: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """Add ``mm_token_type_ids`` (1 at image tokens) where the model's forward takes it."""
    import inspect

    if "mm_token_type_ids" in inspect.signature(model.forward).parameters:
        inputs = dict(inputs)
        inputs["mm_token_type_ids"] = (inputs["input_ids"] == model.config.image_token_id).int()
    return inputs


def allocated() -> int:
    import torch

    return torch.cuda.memory_allocated() if DEVICE == "cuda" else 0


def peak_above(baseline: int) -> float:
    import torch

    if DEVICE == "cuda":
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - baseline
    return 0.0


def reset() -> int:
    import torch

    gc.collect()
    if DEVICE == "cuda":
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    return allocated()


def chunked_logprobs(logits: Any, tokens: Any, *, chunk_size: int = 256) -> Any:
    """log_softmax(logits)[tokens] a chunk of positions at a time in float32 (as the trainer does)."""
    import torch

    out = []
    for start in range(0, logits.shape[1], chunk_size):
        chunk = logits[:, start : start + chunk_size].float()
        ids = tokens[:, start : start + chunk_size]
        out.append(chunk.gather(-1, ids[..., None]).squeeze(-1) - torch.logsumexp(chunk, dim=-1))
    return torch.cat(out, dim=1)


def planned_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run's sizes and the plan's predicted bytes per component, from the project's own code."""
    from vzero_train.config import load_train_config
    from vzero_train.memory_plan import build_plan
    from vzero_train.memory_plan.estimate import SequenceTokens, plan_memory
    from vzero_train.memory_plan.image_sizes import assumed_sizes, parse_size
    from vzero_train.memory_plan.model_shapes import config_folder
    from vzero_train.memory_plan.parallelism import Parallelism

    width, height = parse_size(args.image_size)
    crop = (width // 2 // 32 * 32, height // 2 // 32 * 32)
    config = load_train_config(
        args.recipe,
        [
            f"prompts_per_step={args.prompts}",
            "num_mini_batches=1",
            f"rollout.max_new_tokens={args.max_new_tokens}",
            "teacher.shard=false",
            "mixed_precision=bf16",
        ],
    )
    one = Parallelism(1, False, False, 0, "plan_check (one GPU)")
    inputs = build_plan(
        config, one, assumed_sizes((width, height), crop), text_tokens=args.text_tokens, device_gb=1e6
    )
    plan = inputs.plan()
    seq = inputs.tokens
    # the replay below is one forward over full image + crop + response (no separate prefix pass):
    # planned the same way, the whole row as continuation
    single = SequenceTokens(
        seq.student_prompt, 0, seq.teacher_prefix + seq.teacher_suffix, seq.student_image_patches
    )
    replay = plan_memory(inputs.student, inputs.teacher, inputs.run, single, one, 1e15)

    def resident(prefix: str) -> float:
        return next(line.bytes for line in plan.resident if line.name.startswith(prefix))

    student_dir, _ = config_folder(config.student)
    external = config.teacher.kind == "external"
    teacher_dir = config_folder(config.teacher.path)[0] if external else student_dir
    return {
        "N": args.max_new_tokens,
        "R": config.replay_batch_size,
        "M": config.micro_batch_size,
        "rows": inputs.run.generate_rows,
        "gradient_checkpointing": config.gradient_checkpointing,
        "chunk": config.logprob_chunk_size,
        "image": (width, height),
        "crop": crop,
        "student_prompt": seq.student_prompt,
        "student_dir": str(student_dir),
        "teacher_dir": str(teacher_dir),
        "predicted": {
            "student weights": resident("student weights"),
            "optimizer state": resident("optimizer state"),
            "teacher weights": resident("teacher weights"),
            "update": plan.phase_bytes("update"),
            "rollout": plan.phase_bytes("rollout"),
            "replay": replay.phase_bytes("replay"),
        },
    }


def recipe_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run's sizes from the recipe file alone (PyYAML), with no predictions."""
    import yaml

    root = Path(__file__).resolve().parents[1]
    path = Path(args.recipe)
    if not path.exists():
        path = root / "recipes" / f"{args.recipe.removesuffix('.yaml')}.yaml"
    train = yaml.safe_load(path.read_text())["train"]

    def folder(name: str) -> str:
        local = Path(name)
        return str(
            local if local.is_dir() else root / "vzero_train" / "model_configs" / name.replace("/", "--")
        )

    teacher = train.get("teacher", {})
    width, height = (int(x) for x in args.image_size.lower().split("x"))
    return {
        "N": args.max_new_tokens,
        "R": train.get("replay_batch_size", 8),
        "M": train.get("micro_batch_size", 4),
        "rows": args.prompts * train.get("rollout", {}).get("group_size", 8),
        "gradient_checkpointing": train.get("gradient_checkpointing", False),
        "chunk": train.get("logprob_chunk_size", 256),
        "image": (width, height),
        "crop": (width // 2 // 32 * 32, height // 2 // 32 * 32),
        "student_dir": folder(train["student"]),
        "teacher_dir": folder(teacher["path"])
        if teacher.get("kind", "external") == "external"
        else folder(train["student"]),
        "predicted": {},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"args": vars(args), "components": {}, "errors": {}}
    rows_out = results["components"]

    def record(name: str, predicted: float, measured: float) -> None:
        ratio = measured / predicted if predicted else float("nan")
        rows_out[name] = {"predicted_bytes": predicted, "measured_bytes": measured, "ratio": ratio}
        print(f"{name:<48} {predicted / GB:>10.2f} {measured / GB:>10.2f} {ratio:>7.2f}", flush=True)

    def save() -> None:
        (out_dir / "plan_check.json").write_text(json.dumps(results, indent=2))

    import torch

    global DEVICE
    DEVICE = args.device
    if DEVICE == "cuda" and not torch.cuda.is_available():
        print("plan_check needs a CUDA GPU", file=sys.stderr)
        return 2
    import transformers

    results["device"] = torch.cuda.get_device_name(0) if DEVICE == "cuda" else DEVICE
    results["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__}

    # ---- the plan for these exact sizes (one process, nothing sharded); without the project's
    # dependencies (pydantic, ...) the recipe is read with PyYAML and only the measurements run
    try:
        s = planned_settings(args)
    except Exception as exc:  # measure anyway; predictions unavailable
        results["errors"]["plan"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        s = recipe_settings(args)
    N, R, M, rows = s["N"], s["R"], s["M"], s["rows"]
    (width, height), crop = s["image"], s["crop"]
    results["settings"] = {k: v for k, v in s.items() if k != "predicted"}
    print(f"device: {results['device']}; transformers {transformers.__version__}; recipe {args.recipe}")
    print(
        f"rows {rows}, prompt {s.get('student_prompt', '?')} tokens, {N} new, replay batch {R}, "
        f"micro-batch {M}, image {width}x{height}, crop {crop[0]}x{crop[1]}"
    )
    print(f"{'component':<48} {'plan GB':>10} {'meas. GB':>10} {'ratio':>7}")
    predicted = s["predicted"]

    def phase(name: str) -> float:
        return predicted.get(name, float("nan"))

    def resident(name: str) -> float:
        return predicted.get(name, float("nan"))

    autocast = lambda: torch.autocast(DEVICE, dtype=torch.bfloat16)  # noqa: E731
    try:
        from vzero_core.vlm.replay import gather_token_logprobs
    except Exception:  # the same chunked log-softmax, for a machine without the project's dependencies
        gather_token_logprobs = chunked_logprobs

    student_dir, teacher_dir = Path(s["student_dir"]), Path(s["teacher_dir"])
    student = None
    # ---- student weights, update, optimizer
    try:
        t0 = time.perf_counter()
        baseline = reset()
        student = build(student_dir, torch.float32)
        record("student weights (fp32)", resident("student weights"), allocated() - baseline)
        results["build_student_s"] = time.perf_counter() - t0
        if "update" not in args.skip:
            student.train()
            if s["gradient_checkpointing"]:
                student.gradient_checkpointing_enable()
            optimizer = torch.optim.AdamW(student.parameters(), lr=1e-6)
            enc, resp = batch(student.config, M, args.text_tokens, [(width, height)], N)
            enc = with_token_types(student, enc)
            before = reset()
            with autocast():
                logits = student(**enc, logits_to_keep=N + 1, use_cache=False).logits
                lp = gather_token_logprobs(logits[:, :N], resp, chunk_size=s["chunk"])
            loss = -lp.mean()
            loss.backward()
            record("update: gradients + activations + logits", phase("update"), peak_above(before))
            del logits, lp, loss
            before_step = reset()
            optimizer.step()
            record("optimizer state (AdamW)", resident("optimizer state"), allocated() - before_step)
            optimizer.zero_grad(set_to_none=True)
            del optimizer, enc, resp
            student.gradient_checkpointing_disable()
    except Exception as exc:  # a component that fails is reported; the others still run
        results["errors"]["student/update"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    save()

    # ---- rollout: generate with the KV cache
    if "rollout" not in args.skip and student is not None:
        try:
            from transformers import GenerationConfig

            student.eval()
            enc, _ = batch(student.config, rows, args.text_tokens, [(width, height)])
            enc = with_token_types(student, enc)
            gen = GenerationConfig(
                do_sample=True, temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=N, min_new_tokens=N,
                pad_token_id=0, eos_token_id=None,
            )  # fmt: skip
            before = reset()
            t0 = time.perf_counter()
            with torch.no_grad(), autocast():
                out = student.generate(**enc, generation_config=gen)
            measured = peak_above(before)
            new = out.shape[1] - enc["input_ids"].shape[1] if isinstance(out, torch.Tensor) else N
            results["rollout"] = {"new_tokens": int(new), "seconds": time.perf_counter() - t0}
            record(f"rollout: KV cache + prefill ({rows} rows)", phase("rollout"), measured)
            del out, enc
        except Exception as exc:
            results["errors"]["rollout"] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
    del student
    save()

    # ---- teacher weights and replay
    try:
        baseline = reset()
        teacher = build(teacher_dir, torch.bfloat16)
        teacher.eval()
        record("teacher weights (bf16)", resident("teacher weights"), allocated() - baseline)
        if "replay" not in args.skip:
            # one forward over full image + crop + response: the plan for the same rows counts the
            # whole row as continuation (no separate prefix pass)
            enc, resp = batch(teacher.config, R, args.text_tokens, [(width, height), crop], N)
            enc = with_token_types(teacher, enc)
            before = reset()
            with torch.no_grad(), autocast():
                out = teacher(**enc, logits_to_keep=N + 1, use_cache=True)
                lp = gather_token_logprobs(out.logits[:, :N], resp, chunk_size=s["chunk"])
            record(
                f"replay: teacher KV + activations + logits ({R} rows)",
                phase("replay"),
                peak_above(before),
            )
            del out, lp, enc, resp
        del teacher
    except Exception as exc:
        results["errors"]["teacher/replay"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    save()
    print(f"wrote {out_dir / 'plan_check.json'}")
    if results["errors"]:
        print(f"failed components: {', '.join(results['errors'])}")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
