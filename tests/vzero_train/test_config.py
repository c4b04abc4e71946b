import textwrap

import pytest

from vzero_train.config import RecipeError, TrainConfig, load_train_config


def _write(tmp_path, text):
    path = tmp_path / "recipe.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_defaults_are_the_papers():
    cfg = TrainConfig(student="s", teacher={"path": "t"})
    assert (cfg.gate.gamma, cfg.gate.alpha, cfg.gate.w_min, cfg.gate.w_max, cfg.gate.eps) == (
        1.0,
        0.5,
        0.0,
        2.0,
        1e-6,
    )
    assert (cfg.loss.clamp, cfg.loss.clip_ratio, cfg.loss.dual_clip, cfg.loss.aggregation) == (
        10.0,
        0.2,
        3.0,
        "token-mean",
    )
    assert (cfg.optim.lr, cfg.optim.weight_decay, cfg.optim.grad_clip) == (1e-6, 0.01, 1.0)
    r = cfg.rollout
    assert (r.group_size, r.temperature, r.top_p, r.top_k, r.max_new_tokens) == (8, 1.0, 1.0, None, 2048)
    assert (cfg.prompts_per_step, cfg.num_mini_batches) == (32, 2)


def test_train_section_with_top_level_store(tmp_path):
    path = _write(
        tmp_path,
        """
        store: {path: runs/demo/store}
        curate: {anything: the curation half reads}
        train:
          student: tiny:qwen2_5_vl
          teacher: {kind: ema, decay: 0.95}
          gate: {enabled: false}
        """,
    )
    cfg = load_train_config(path, overrides={"steps": 3, "rollout.group_size": 2})
    assert cfg.store == "runs/demo/store" and cfg.teacher.kind == "ema" and cfg.teacher.decay == 0.95
    assert not cfg.gate.enabled and cfg.steps == 3 and cfg.rollout.group_size == 2


def test_a_file_that_is_only_the_train_section(tmp_path):
    path = _write(tmp_path, "student: a\nteacher: {path: b}\nstore: s\n")
    assert load_train_config(path).store == "s"


@pytest.mark.parametrize(
    "text, message",
    [
        ("train: {student: s, teacher: {kind: external}}", "train.teacher: .*needs teacher.path"),
        (
            "train: {student: s, teacher: {path: t}, gate: {gamma2: 1}}",
            "train.gate.gamma2: unknown field \\(allowed: gamma, alpha, w_min, w_max, eps, enabled",
        ),
        ("train: {student: s, teacher: {path: t}, gate: {w_min: 3}}", "w_min \\(3.0\\) must not exceed"),
        ("train: {student: s, teacher: {path: t}, prompts_per_step: 3}", "divisible by num_mini_batches"),
        ("train: {student: s, teacher: {kind: ema, decay: 1.0}}", "train.teacher.decay"),
        ("train: {student: s, teacher: {path: t}, loss: {aggregation: sum}}", "train.loss.aggregation"),
        ("curate: {}", "no `train:` section"),
        ("[1, 2]", "must be a YAML mapping"),
        ("train: {student: [", "invalid YAML"),
    ],
)
def test_bad_recipes_give_located_errors(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(RecipeError, match=message) as info:
        load_train_config(path)
    assert path.name in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(RecipeError, match="nope.yaml: no such recipe file"):
        load_train_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "prompts, mini_batches, processes, per_rank",
    [
        (16, 2, 1, 16),
        (16, 2, 8, 2),
        (16, 2, 4, 4),
        (16, 2, 3, None),  # does not split over the processes
        (16, 4, 8, None),  # 2 per process do not split into 4 mini-batches
        (4, 1, 8, None),  # fewer prompts than processes
    ],
)
def test_prompts_split_over_processes_then_into_mini_batches(prompts, mini_batches, processes, per_rank):
    cfg = TrainConfig(
        student="s", teacher={"path": "t"}, prompts_per_step=prompts, num_mini_batches=mini_batches
    )
    if per_rank is None:
        with pytest.raises(ValueError, match=f"must split evenly over {processes} processes and then into"):
            cfg.prompts_per_rank(processes)
    else:
        assert cfg.prompts_per_rank(processes) == per_rank
