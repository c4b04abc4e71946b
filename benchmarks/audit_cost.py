"""Evidence audit cost per sample against the bare teacher forward passes it needs.

The audit scores every candidate answer of a sample under 3 + S contexts (positive crop, S negatives,
full image alone, crop alone, question alone). The reference is the bare minimum a straightforward
implementation runs: for each sample and context, one plain forward of the K candidate rows (the
context's prompt followed by each candidate), inputs tokenized and preprocessed beforehand and not
timed. Against it:

- ``scoring``: :func:`vzero_core.vlm.option_scoring.score_candidates` on decoded samples (prompts
  rendered and preprocessed inside, each image encoded once, the positive and negative contexts
  branched from one cached prefix per sample);
- ``audit``: ``run_audit`` end to end on a copy of the store (records read from the shards and
  decoded, scoring, verdicts, rows published; the teacher's load is excluded).

Prints seconds per sample for each, the ratios to the bare forwards (the issue's target: audit <=
1.3x), and the load average. The store is the evidence sandbox's shared-colour world with every
negative strategy; the teacher a tiny random Qwen2.5-VL (only the cost is measured).

usage: HF_HUB_OFFLINE=1 python benchmarks/audit_cost.py [--samples 24] [--hidden 128] [--image-size 112] [--micro-batch 64]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.audit_world: the sandbox world

import torch  # noqa: E402

from tests.audit_world import build_split  # noqa: E402
from vzero_core.vlm.option_scoring import (  # noqa: E402
    CROP_ONLY,
    FULL_IMAGE,
    POSITIVE,
    ScoringItem,
    answer_token_ids,
    score_candidates,
    text_only_template,
)
from vzero_core.vlm.prompts import PromptTemplates, build_messages, encode_prompts, render_prompt  # noqa: E402
from vzero_core.vlm.replay import response_logprobs  # noqa: E402


def decoded_items(store: Path, limit: int) -> list[ScoringItem]:
    from vzero_data.audit.config import AuditConfig
    from vzero_data.audit.scorer import AuditSettings, prepare
    from vzero_data.store import iter_raw_records, open_store

    settings = AuditSettings.from_config(AuditConfig(teacher="unused"))
    raws = iter_raw_records(open_store(store), None, None, limit, require_all=False)
    return [p.item for p in (prepare(raw, settings) for raw in raws)]


def bare_inputs(vlm, items: list[ScoringItem], templates: PromptTemplates) -> list[tuple[dict, torch.Tensor]]:
    """Per sample and context: the pre-encoded batch of its K candidate rows (not timed)."""
    out = []
    for item in items:
        ids, _ = answer_token_ids(vlm.tokenizer, list(item.candidates))
        k = len(item.candidates)
        contexts = {
            POSITIVE: (templates.teacher, [item.image, item.crop]),
            **{n: (templates.teacher, [item.image, v]) for n, v in item.negatives.items()},
            FULL_IMAGE: (templates.student, [item.image]),
            CROP_ONLY: (templates.student, [item.crop]),
            "text_only": (text_only_template(templates.student), []),
        }
        for template, images in contexts.values():
            prompt = render_prompt(vlm.tokenizer, build_messages(template, item.question, templates.system))
            if images:
                enc = dict(
                    encode_prompts(vlm.processor, [prompt] * k, [images] * k, nested_images=vlm.nested_images)
                )
            else:
                enc = dict(vlm.processor(text=[prompt] * k, padding=True, return_tensors="pt"))
            out.append((enc, ids))
    return out


def time_bare(vlm, batches) -> float:
    start = time.perf_counter()
    with torch.no_grad():
        for enc, ids in batches:
            response_logprobs(vlm.model, enc, ids)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=24)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--micro-batch", type=int, default=64)
    args = parser.parse_args()

    from vzero_core.tiny_models import save_tiny_vlm
    from vzero_core.vlm.models import load_vlm
    from vzero_data.audit import AuditConfig, run_audit
    from vzero_data.audit.scorer import AuditSettings, load_teacher

    tmp = Path(tempfile.mkdtemp(prefix="audit-bench-"))
    try:
        store = build_split(tmp, "world", args.samples, seed=1005)
        teacher = save_tiny_vlm(
            "qwen2_5_vl",
            tmp / "teacher",
            hidden_size=args.hidden,
            num_layers=args.layers,
            image_size=args.image_size,
        )
        vlm = load_vlm(teacher, device="cpu", dtype="float32")
        templates = PromptTemplates()
        items = decoded_items(store, args.samples)
        n = len(items)
        contexts = sum(3 + 1 + len(i.negatives) for i in items) / n
        batches = bare_inputs(vlm, items, templates)
        time_bare(vlm, batches[:4])  # warm up
        bare = time_bare(vlm, batches)

        start = time.perf_counter()
        for i in range(0, n, 8):
            score_candidates(vlm, items[i : i + 8], templates=templates, micro_batch_size=args.micro_batch)
        scoring = time.perf_counter() - start

        execution = {
            "batch_size": 8,
            "micro_batch_size": args.micro_batch,
            "device": "cpu",
            "progress": False,
        }
        config = AuditConfig(teacher=str(teacher), execution=execution)
        load_start = time.perf_counter()
        load_teacher(AuditSettings.from_config(config))
        load = time.perf_counter() - load_start
        copy = shutil.copytree(store, tmp / "audited")
        start = time.perf_counter()
        outcome = run_audit(copy, config)
        audit = time.perf_counter() - start - load
        assert outcome.audited == n, outcome.format()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    per = {name: seconds / n for name, seconds in (("bare", bare), ("scoring", scoring), ("audit", audit))}
    print(
        f"{n} samples, {contexts:.0f} contexts x 4 candidates each; tiny Qwen2.5-VL hidden {args.hidden}, "
        f"{args.layers} layers, images <= {args.image_size} px, micro-batch {args.micro_batch}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(
        f"bare forwards (one per sample and context, inputs pre-encoded): {1000 * per['bare']:.1f} ms/sample"
    )
    print(
        f"scoring (score_candidates, shared prefix):                      {1000 * per['scoring']:.1f} ms/sample  ratio {per['scoring'] / per['bare']:.2f}x"
    )
    print(
        f"audit end to end (store read, scoring, verdicts, rows written): {1000 * per['audit']:.1f} ms/sample  ratio {per['audit'] / per['bare']:.2f}x  (target <= 1.3x)"
    )
    print(f"(teacher load {load:.1f}s, excluded)")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
