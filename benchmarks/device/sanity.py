"""The ``sanity`` part: the bf16 matrix-product rate, which attention kernels work, and which attention
implementations transformers can build a Qwen3-VL model with.

Every timing is the median of several runs after warm-ups, on random data (never zeros), with CUDA
events on a GPU; every kernel's output is compared with a reference (float64 for the matrix
product, the math kernel in float32 for attention) as a relative error ||out - ref|| / ||ref||.
The matrix-product rate is the ceiling the ``opd`` part's utilisation is measured against.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.device.random_models import model_folder, recipe_models

ATTENTION_IMPLEMENTATIONS = ("eager", "sdpa", "flash_attention_2", "flash_attention_3", "flex_attention")


def median_seconds(fn: Callable[[], Any], device: str, *, warmup: int = 3, reps: int = 10) -> float:
    """Median wall time of ``fn()`` (CUDA events on a GPU, a host clock on the CPU)."""
    import torch

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def relative_error(out: Any, ref: Any) -> float:
    out, ref = out.double(), ref.double()
    return float((out - ref).norm() / ref.norm())


def matmul(n: int, device: str) -> dict[str, float]:
    """An n x n x n bf16 matrix product: median seconds, TFLOP/s, and the relative error of 256 rows
    against float64."""
    import torch

    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16, generator=gen)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16, generator=gen)
    seconds = median_seconds(lambda: a @ b, device)
    rows = min(n, 256)
    error = relative_error((a[:rows] @ b).float(), a[:rows].double() @ b.double())
    return {"n": n, "seconds": seconds, "tflops": 2 * n**3 / seconds / 1e12, "relative_error": error}


def attention_kernels(shape: tuple[int, int, int, int], device: str) -> list[dict[str, Any]]:
    """Causal scaled-dot-product attention (batch, heads, sequence, head dim) in bf16 through each of
    PyTorch's kernels: works or not, median seconds, TFLOP/s, error against the math kernel in fp32."""
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    batch, heads, seq, dim = shape
    gen = torch.Generator(device=device).manual_seed(0)
    q, k, v = (torch.randn(shape, device=device, dtype=torch.bfloat16, generator=gen) for _ in range(3))
    with sdpa_kernel(SDPBackend.MATH):
        ref = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=True)
    flops = 4 * batch * heads * seq * seq * dim / 2  # causal: half the score matrix
    rows = []
    for backend in ("FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION", "MATH"):
        kernel = getattr(SDPBackend, backend, None)
        row: dict[str, Any] = {"kernel": backend.lower()}
        try:
            if kernel is None:
                raise RuntimeError("not in this PyTorch")
            with sdpa_kernel(kernel):
                out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
                seconds = median_seconds(
                    lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True), device
                )
            row.update(
                works=True,
                seconds=seconds,
                tflops=flops / seconds / 1e12,
                relative_error=relative_error(out, ref),
            )
        except Exception as exc:  # a kernel this machine lacks: say why, try the next
            row.update(works=False, error=first_line(exc))
        rows.append(row)
    return rows


def attention_implementations(folder: Path, device: str, tokens: int) -> list[dict[str, Any]]:
    """A Qwen3-VL language model (the ``folder``'s config) built with each attention implementation
    transformers names: works or not, and its logits' error against ``eager`` on the same weights."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    config = AutoConfig.from_pretrained(folder)
    ids = torch.randint(10, 400, (2, tokens), generator=torch.Generator().manual_seed(0)).to(device)
    torch.manual_seed(0)
    with torch.device(device):
        base = AutoModelForImageTextToText.from_config(config, dtype=torch.bfloat16).eval()
    state = base.state_dict()
    default = base.config._attn_implementation
    del base
    rows, ref = [], None
    for name in ATTENTION_IMPLEMENTATIONS:
        row: dict[str, Any] = {"implementation": name, "default": name == default}
        try:
            with torch.device(device):
                model = AutoModelForImageTextToText.from_config(
                    config, dtype=torch.bfloat16, attn_implementation=name
                )
            model.load_state_dict(state)
            with torch.no_grad():
                logits = model.eval()(input_ids=ids).logits.float()
            ref = logits if name == "eager" else ref
            row.update(works=True, relative_error=relative_error(logits, ref) if ref is not None else None)
            del model
        except Exception as exc:  # an implementation this machine lacks (flash-attn not installed, ...)
            row.update(works=False, error=first_line(exc))
        rows.append(row)
    return rows


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def run(ctx: Any, part: Any) -> None:
    s = ctx.sizes
    result = matmul(s.matmul_n, ctx.device)
    ctx.shared["matmul_tflops"] = result["tflops"]
    part.data["matmul"] = result
    part.table(
        "bf16 matrix product (median of 10 after 3 warm-ups, random data)",
        ["n", "ms", "TFLOP/s", "error vs float64"],
    ).append([result["n"], result["seconds"] * 1e3, result["tflops"], result["relative_error"]])
    part.save()

    kernels = attention_kernels(s.attention_shape, ctx.device)
    part.data["attention_kernels"] = kernels
    rows = part.table(
        f"causal attention kernels, bf16, (batch, heads, sequence, head dim) = {s.attention_shape}",
        ["kernel", "works", "ms", "TFLOP/s", "error vs math fp32", "why not"],
    )
    for k in kernels:
        rows.append(
            [
                k["kernel"],
                k["works"],
                k.get("seconds", float("nan")) * 1e3,
                k.get("tflops"),
                k.get("relative_error"),
                k.get("error", ""),
            ]
        )
    part.save()

    folder = model_folder(
        recipe_models()[0], ctx.work / "attention-model", shrink=s.attention_model_hidden, vocab=1024
    )
    impls = attention_implementations(folder, ctx.device, s.attention_tokens)
    part.data["attention_implementations"] = impls
    rows = part.table(
        "transformers attention implementations (Qwen3-VL language model, bf16, layers "
        f"{s.attention_model_hidden} wide)",
        ["implementation", "works", "error vs eager", "loads by default", "why not"],
    )
    for i in impls:
        rows.append(
            [i["implementation"], i["works"], i.get("relative_error"), i["default"], i.get("error", "")]
        )
    part.save()
