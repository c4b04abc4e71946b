"""Evidence audit cost per sample against the bare teacher forward passes it needs.

The audit scores every candidate answer of a sample (K options) under 3 + S contexts: the positive
crop, S negatives, the full image alone, the crop alone, the question alone. Two references, both
measured in this run on the same model and samples:

- ``forwards``: the time the audit spends inside the teacher's own forward calls (the language
  model's forwards and the vision tower's, each timed once however they nest), i.e. the bare
  forward passes it needs with the prefix shared and each image encoded once. ``audit / forwards``
  is what the audit adds around them: reading and decoding records, preprocessing, verdicts,
  writing rows (the issue's target: at most 1.3x);
- ``naive``: what a straightforward implementation runs, one plain forward per sample and context
  over its K candidate rows (every row carries its own images), inputs tokenized and preprocessed
  beforehand and not timed. ``audit / naive`` is what the shared prefix and the vision cache save.

The audit is ``run_audit`` end to end on a copy of the store (the teacher's load excluded). The
store is the shared-colour world (tests/audit_world.py) with every negative strategy; the teacher a
tiny random Qwen2.5-VL (only the cost is measured). Prints ms per sample, the ratios and the load
average.

usage: HF_HUB_OFFLINE=1 python benchmarks/audit_cost.py [--samples 16] [--hidden 128] [--image-size 112] [--micro-batch 64]
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.audit_world: the shared-colour world

import torch  # noqa: E402

from tests.audit_world import build_split  # noqa: E402
from vzero_core.vlm.option_scoring import (  # noqa: E402
    CROP_ONLY,
    FULL_IMAGE,
    POSITIVE,
    ScoringItem,
    answer_token_ids,
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


class ForwardTimer:
    """Wall time spent inside ``modules``' forwards, counting only the outermost of nested calls."""

    def __init__(self, modules) -> None:
        self.seconds = 0.0
        self._depth = 0
        self._start = 0.0
        for m in modules:
            m.register_forward_pre_hook(self._enter)
            m.register_forward_hook(self._leave)

    def _enter(self, *args) -> None:
        if self._depth == 0:
            self._start = time.perf_counter()
        self._depth += 1

    def _leave(self, *args) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.seconds += time.perf_counter() - self._start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--micro-batch", type=int, default=64)
    args = parser.parse_args()

    from vzero_core.tiny_models import save_tiny_vlm
    from vzero_core.vlm.models import load_vlm
    from vzero_data.audit import AuditConfig, executors, run_audit

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
        items = decoded_items(store, args.samples)
        n = len(items)
        contexts = sum(3 + 1 + len(i.negatives) for i in items) / n
        batches = bare_inputs(vlm, items, PromptTemplates())
        time_bare(vlm, batches[:4])  # warm up
        naive = time_bare(vlm, batches)

        timer = ForwardTimer([vlm.model, vlm.model.model.visual])
        monkey = executors.load_teacher
        executors.load_teacher = lambda settings: vlm  # the hooked model, already loaded
        execution = {
            "batch_size": 8,
            "micro_batch_size": args.micro_batch,
            "device": "cpu",
            "progress": False,
        }
        config = AuditConfig(teacher=str(teacher), execution=execution)
        run_audit(
            shutil.copytree(store, tmp / "warm"),
            config.model_copy(update={"execution": config.execution.model_copy(update={"limit": 4})}),
        )
        copy = shutil.copytree(store, tmp / "audited")
        timer.seconds = 0.0
        start = time.perf_counter()
        outcome = run_audit(copy, config)
        audit = time.perf_counter() - start
        forwards = timer.seconds
        executors.load_teacher = monkey
        assert outcome.audited == n, outcome.format()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    per = {
        name: 1000 * seconds / n
        for name, seconds in (("naive", naive), ("forwards", forwards), ("audit", audit))
    }
    print(
        f"{n} samples, {contexts:.0f} contexts x 4 candidates each; tiny Qwen2.5-VL hidden {args.hidden}, "
        f"{args.layers} layers, images <= {args.image_size} px, micro-batch {args.micro_batch}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(f"audit end to end:                                     {per['audit']:8.1f} ms/sample")
    print(
        f"  its teacher forwards (prefix shared, images once): {per['forwards']:8.1f} ms/sample  "
        f"audit / forwards = {per['audit'] / per['forwards']:.2f}x (target <= 1.3x)"
    )
    print(
        f"naive forwards (one per context, rows re-encode):    {per['naive']:8.1f} ms/sample  "
        f"audit / naive = {per['audit'] / per['naive']:.2f}x"
    )
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
