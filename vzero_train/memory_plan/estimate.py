"""Per-process GPU memory of a V-Zero run, component by component (docs/memory-plan.md).

Pure arithmetic over the models' shapes, the recipe's batch sizes, the parallelism and the sequence
lengths. What the trainer keeps and when:

- Always resident: the student's float32 master weights and AdamW's two float32 moments (sharded
  under FSDP as the accelerate config says), and the frozen teacher in its load dtype (bf16 on a GPU;
  float32 for an EMA teacher), whole on every process or, with ``teacher.shard``, its repeated
  blocks divided over the processes.
- Then one phase at a time, each freed before the next: the rollout (``generate`` under bf16
  autocast: the KV cache, and under FSDP1 the full student gathered for sampling); the replay (the
  teacher scoring ``replay_batch_size`` rows continuing a branched prefix cache); the student's old
  log-probs (the same rows, no gradient); the update (float32 gradients, the micro-batch's
  activations, its logits).

The peak is the resident part plus the largest phase. Activations are an estimate (the tensors a
decoder layer saves for backward under autocast); everything else follows from tensor shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vzero_train.memory_plan.model_shapes import ModelShape, TextShape
from vzero_train.memory_plan.parallelism import Parallelism

GB = 1e9
FP32 = 4


@dataclass(frozen=True)
class RunSizes:
    """The recipe's numbers the plan needs, per process."""

    prompts_per_process: int
    group_size: int
    max_new_tokens: int
    generate_rows: int  # rows per generate call (rollout.batch_size, default all of them)
    micro_batch_size: int
    replay_batch_size: int
    gradient_checkpointing: bool
    logprob_chunk_size: int
    compute_bytes: int  # bf16 autocast: 2; no mixed precision: 4
    teacher_bytes: int  # the teacher's load dtype
    teacher_sharded: bool
    student_vision_trainable: bool = True


@dataclass(frozen=True)
class SequenceTokens:
    """Token counts of the longest rows (the largest images of the store)."""

    student_prompt: int  # system + question + the full image's visual tokens
    teacher_prefix: int  # the teacher prompt up to the crop: system, full image, question
    teacher_suffix: int  # the crop slot's view and the end of the user turn
    student_image_patches: int  # the student's vision tower sequence length for that image


@dataclass(frozen=True)
class Line:
    """One component: its name, bytes per process and the formula with the numbers put in."""

    name: str
    bytes: float
    formula: str


@dataclass
class MemoryPlan:
    resident: list[Line]
    phases: dict[str, list[Line]]
    device_bytes: float
    notes: list[str] = field(default_factory=list)

    @property
    def resident_bytes(self) -> float:
        return sum(line.bytes for line in self.resident)

    def phase_bytes(self, name: str) -> float:
        return sum(line.bytes for line in self.phases[name])

    @property
    def peak_phase(self) -> str:
        return max(self.phases, key=self.phase_bytes)

    @property
    def peak_bytes(self) -> float:
        return self.resident_bytes + self.phase_bytes(self.peak_phase)

    @property
    def fits(self) -> bool:
        return self.peak_bytes <= self.device_bytes


def gb(n: float) -> str:
    return f"{n / GB:.2f} GB"


def kv_bytes_per_token(text: TextShape, dtype_bytes: int) -> int:
    """K and V of one token over the full-attention layers."""
    return text.full_attention_layers * text.kv_heads * text.head_dim * 2 * dtype_bytes


def linear_state_bytes(text: TextShape, dtype_bytes: int) -> int:
    """One sequence's fixed-size state over the linear-attention layers: the float32 recurrent state
    (value heads x key dim x value dim) and the convolution window over the q, k, v channels."""
    if not text.linear_layers:
        return 0
    recurrent = text.linear_value_heads * text.linear_key_dim * text.linear_value_dim * FP32
    channels = (
        2 * text.linear_key_heads * text.linear_key_dim + text.linear_value_heads * text.linear_value_dim
    )
    conv = channels * max(text.linear_conv_kernel - 1, 0) * dtype_bytes
    return text.linear_layers * (recurrent + conv)


def layer_activation_bytes(
    tokens: int, hidden: int, q: int, kv: int, intermediate: int, dtype_bytes: int
) -> int:
    """What one transformer layer saves for backward over ``tokens`` positions under autocast: the
    normed input, q / k / v, the attention output, the o-projection output, the MLP's gate, up, their
    product and output (``dtype_bytes`` each), plus the float32 residual stream twice."""
    per_token = dtype_bytes * (3 * hidden + 2 * q + 2 * kv + 3 * intermediate) + FP32 * 2 * hidden
    return tokens * per_token


def text_layer_activations(text: TextShape, tokens: int, dtype_bytes: int) -> int:
    q = max(text.heads * text.head_dim, text.linear_value_heads * text.linear_value_dim)
    kv = max(text.kv_heads * text.head_dim, text.linear_key_heads * text.linear_key_dim)
    return layer_activation_bytes(tokens, text.hidden, q, kv, text.intermediate, dtype_bytes)


def forward_transient(text: TextShape, tokens: int, dtype_bytes: int) -> int:
    """A no-grad forward's largest live intermediate: one layer's MLP gate and up projections and
    the residual stream over ``tokens`` positions."""
    return tokens * (dtype_bytes * 2 * text.intermediate + FP32 * 2 * text.hidden)


def images_per_micro_batch(micro_batch: int, group_size: int) -> int:
    """Distinct images in a micro-batch: rows are prompt-major (G per prompt) and a micro-batch
    starts at a multiple of its size, so M rows span M/G prompts, one when M divides G, and at most
    ceil((M-1)/G) + 1 otherwise. The update runs a trainable vision tower once per distinct image
    (except under FSDP, where each row's pixels go through the wrapped forward)."""
    if micro_batch % group_size == 0:
        return micro_batch // group_size
    if group_size % micro_batch == 0:
        return 1
    return min(micro_batch, -(-(micro_batch - 1) // group_size) + 1)


def resident_lines(student: ModelShape, teacher: ModelShape, run: RunSizes, par: Parallelism) -> list[Line]:
    """Always held: the student's fp32 master weights, AdamW's moments, the frozen teacher."""
    W, P = par.processes, student.params
    w_div = W if par.shard_weights else 1
    s_div = W if par.shard_states else 1
    resident = [
        Line(
            "student weights (fp32)",
            FP32 * P / w_div,
            f"4 B x {P / 1e9:.3f}B params" + (f" / {W}" if w_div > 1 else ""),
        ),
        Line(
            "optimizer state (AdamW, 2 fp32 moments)",
            2 * FP32 * P / s_div,
            f"8 B x {P / 1e9:.3f}B" + (f" / {W}" if s_div > 1 else ""),
        ),
    ]
    tb = run.teacher_bytes
    if run.teacher_sharded and W > 1:
        whole = teacher.params - teacher.block_params
        resident.append(Line(
            f"teacher weights ({tb} B/param, blocks sharded)",
            tb * (teacher.block_params / W + whole),
            f"{tb} B x ({teacher.block_params / 1e9:.3f}B in blocks / {W} + {whole / 1e9:.3f}B whole)",
        ))  # fmt: skip
    else:
        resident.append(Line(
            f"teacher weights ({tb} B/param, replicated)", tb * teacher.params, f"{tb} B x {teacher.params / 1e9:.3f}B params"
        ))  # fmt: skip

    return resident


def rollout_lines(student: ModelShape, run: RunSizes, tokens: SequenceTokens, par: Parallelism) -> list[Line]:
    """The rollout: G samples per prompt, all of this process's prompts in one generate by default."""
    W, P = par.processes, student.params
    b, t, N = run.compute_bytes, student.text, run.max_new_tokens
    rows = run.generate_rows
    seq = tokens.student_prompt + N
    kv_tok = kv_bytes_per_token(t, b)
    rollout = [
        Line(
            "rollout KV cache",
            rows * seq * kv_tok,
            f"{rows} rows x ({tokens.student_prompt} prompt + {N} new) tokens x {t.full_attention_layers} layers "
            f"x {t.kv_heads} kv heads x {t.head_dim} dim x 2 (K,V) x {b} B",
        )
    ]
    if t.linear_layers:
        rollout.append(Line(
            "rollout linear-attention states", rows * linear_state_bytes(t, b),
            f"{rows} rows x {t.linear_layers} layers x (fp32 {t.linear_value_heads}x{t.linear_key_dim}x{t.linear_value_dim} state + conv window)",
        ))  # fmt: skip
    rollout.append(Line(
        "rollout prefill activations", forward_transient(t, rows * tokens.student_prompt, b),
        f"{rows} x {tokens.student_prompt} tokens x ({b} B x 2 x {t.intermediate} + 8 B x {t.hidden})",
    ))  # fmt: skip
    if par.fsdp_version == 1 and par.shard_weights and W > 1:
        rollout.append(Line(
            "student gathered for sampling (FSDP1 summon_full_params)", FP32 * P * (1 - 1 / W),
            f"4 B x {P / 1e9:.3f}B x (1 - 1/{W})",
        ))  # fmt: skip
    elif par.fsdp_version == 2 and par.shard_weights:
        rollout.append(
            Line("student block gathered (FSDP2)", FP32 * student.largest_block_params, "4 B x largest block")
        )

    return rollout


def replay_lines(teacher: ModelShape, run: RunSizes, tokens: SequenceTokens, par: Parallelism) -> list[Line]:
    """The teacher's replays: a branched prefix cache continued, ``replay_batch_size`` rows at a time."""
    W, tb = par.processes, run.teacher_bytes
    b, N = run.compute_bytes, run.max_new_tokens
    R = run.replay_batch_size
    tt = teacher.text
    cont = tokens.teacher_suffix + N
    t_kv = kv_bytes_per_token(tt, b)
    if run.teacher_sharded and W > 1:
        gathered = [
            Line(
                "teacher block gathered (sharded teacher)",
                2 * tb * teacher.largest_block_params,
                f"2 x {tb} B x largest block",
            )
        ]
    else:
        gathered = []
    teacher_replay = [
        Line(
            "teacher KV cache (branched prefix + continuation)",
            R * (tokens.teacher_prefix + cont) * t_kv + R * linear_state_bytes(tt, b),
            f"{R} rows x ({tokens.teacher_prefix} prefix + {tokens.teacher_suffix} crop + {N} response) tokens "
            f"x {tt.full_attention_layers} layers x {tt.kv_heads} x {tt.head_dim} x 2 x {b} B"
            + (" + linear states" if tt.linear_layers else ""),
        ),
        Line(
            "teacher activations",
            forward_transient(tt, R * cont, b),
            f"{R} x {cont} tokens x ({b} B x 2 x {tt.intermediate} + 8 B x {tt.hidden})",
        ),
        Line("replay logits", R * N * tt.vocab * b, f"{R} rows x {N} response x {tt.vocab} vocab x {b} B"),
        Line(
            "replay log-softmax chunk (fp32)",
            2 * R * min(run.logprob_chunk_size, N) * tt.vocab * FP32,
            f"2 x {R} x {min(run.logprob_chunk_size, N)} positions x {tt.vocab} x 4 B",
        ),
        *gathered,
    ]
    return teacher_replay


def old_logprob_lines(student: ModelShape, run: RunSizes, tokens: SequenceTokens) -> list[Line]:
    """The student's log-probs before the update: the replay's rows, no gradient."""
    R, b, t, N = run.replay_batch_size, run.compute_bytes, student.text, run.max_new_tokens
    old_seq = tokens.student_prompt + N
    old_logprobs = [
        Line(
            "old log-probs activations",
            forward_transient(t, R * old_seq, b),
            f"{R} x {old_seq} tokens (student, no grad)",
        ),
        Line("old log-probs logits", R * (N + 1) * t.vocab * b, f"{R} x {N + 1} x {t.vocab} x {b} B"),
        Line(
            "old log-probs log-softmax chunk (fp32)",
            2 * R * min(run.logprob_chunk_size, N) * t.vocab * FP32,
            "2 x rows x chunk x vocab x 4 B",
        ),
    ]

    return old_logprobs


def update_lines(student: ModelShape, run: RunSizes, tokens: SequenceTokens, par: Parallelism) -> list[Line]:
    """The update: fp32 gradients, one micro-batch's activations (text and a trainable vision tower)
    and logits, and the FSDP blocks gathered around them."""
    W, P = par.processes, student.params
    s_div = W if par.shard_states else 1
    b, t, N = run.compute_bytes, student.text, run.max_new_tokens
    M = run.micro_batch_size
    useq = tokens.student_prompt + N
    layer = text_layer_activations(t, M * useq, b)
    with_ckpt = t.layers * M * useq * t.hidden * FP32 + 2 * layer
    without = t.layers * layer
    if run.gradient_checkpointing:
        acts = with_ckpt
        acts_formula = (
            f"{t.layers} layers x {M} x {useq} tokens x {t.hidden} x 4 B (checkpointed inputs) + 2 x one "
            f"layer's activations (without checkpointing: {gb(without)})"
        )
    else:
        acts = without
        acts_formula = (
            f"{t.layers} layers x one layer's activations ({M} x {useq} tokens) "
            f"(with gradient checkpointing: {gb(with_ckpt)})"
        )
    update = [
        Line(
            "gradients (fp32)", FP32 * P / s_div, f"4 B x {P / 1e9:.3f}B" + (f" / {W}" if s_div > 1 else "")
        ),
        Line(
            "update activations" + (" (gradient checkpointing)" if run.gradient_checkpointing else ""),
            acts,
            acts_formula,
        ),
        Line(
            "update logits and their gradient",
            2 * M * (N + 1) * t.vocab * b,
            f"2 x {M} x {N + 1} x {t.vocab} x {b} B",
        ),
        Line(
            "update log-softmax chunk (fp32)",
            2 * M * min(run.logprob_chunk_size, N) * t.vocab * FP32,
            "2 x rows x chunk x vocab x 4 B",
        ),
    ]
    v = student.vision
    if v is not None and run.student_vision_trainable and tokens.student_image_patches:
        images = M if par.fsdp_version else images_per_micro_batch(M, run.group_size)
        patches = images * tokens.student_image_patches
        vlayer = layer_activation_bytes(patches, v.hidden, v.hidden, v.hidden, v.intermediate, b)
        vacts = (
            v.depth * patches * v.hidden * FP32 + 2 * vlayer
            if run.gradient_checkpointing
            else v.depth * vlayer
        )
        update.append(Line(
            "vision tower activations", vacts, f"{v.depth} blocks over {images} image(s) x {tokens.student_image_patches} patches"
        ))  # fmt: skip
    if par.fsdp_version and par.shard_weights and W > 1:
        update.append(
            Line(
                "student blocks gathered (FSDP, with prefetch)",
                2 * FP32 * student.largest_block_params,
                "2 x 4 B x largest block",
            )
        )
    return update


def plan_memory(
    student: ModelShape,
    teacher: ModelShape,
    run: RunSizes,
    tokens: SequenceTokens,
    par: Parallelism,
    device_bytes: float,
) -> MemoryPlan:
    """Bytes per process of every component (see the module docstring): the resident part, then one
    line list per phase, each freed before the next."""
    phases = {
        "rollout": rollout_lines(student, run, tokens, par),
        "replay": replay_lines(teacher, run, tokens, par),
        "old_logprobs": old_logprob_lines(student, run, tokens),
        "update": update_lines(student, run, tokens, par),
    }
    return MemoryPlan(resident_lines(student, teacher, run, par), phases, device_bytes, [])
