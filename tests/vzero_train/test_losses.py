import math

import pytest
import torch

from vzero_train.losses import (
    clipped_surrogate,
    distillation_loss,
    opd_token_advantages,
    policy_loss,
    token_weights,
    topk_reverse_kl,
    with_group_baseline,
)


@pytest.mark.parametrize(
    "student, teacher, weight, mask, expected",
    [
        # A = -w * clamp(student - teacher); masked positions are 0
        ([[-1.0, -2.0, -30.0]], [[-2.0, -1.0, 0.0]], [2.0], [[1, 1, 0]], [[-2.0, 2.0, 0.0]]),
        ([[0.0, -50.0]], [[-50.0, 0.0]], [1.0], [[1, 1]], [[-10.0, 10.0]]),  # clamped to +-10
        ([[-1.0, -3.0]], [[-2.0, -1.0]], [0.0], [[1, 1]], [[0.0, 0.0]]),  # weight 0
    ],
)
def test_advantages_table(student, teacher, weight, mask, expected):
    adv = opd_token_advantages(
        torch.tensor(student), torch.tensor(teacher), torch.tensor(weight), torch.tensor(mask)
    )
    torch.testing.assert_close(adv, torch.tensor(expected))


def test_advantages_clamp_knob_and_no_grad():
    student = torch.tensor([[0.0]], requires_grad=True)
    adv = opd_token_advantages(student, torch.tensor([[-5.0]]), torch.ones(1), torch.ones(1, 1), clamp=2.0)
    assert adv.item() == -2.0 and not adv.requires_grad


@pytest.mark.parametrize(
    "advantage, ratio, dual_clip, expected",
    [
        (1.0, 1.5, 3.0, -1.2),  # A > 0, ratio above 1 + eps: clipped
        (1.0, 0.5, 3.0, -0.5),  # A > 0, ratio below 1 - eps: unclipped (pessimistic max)
        (-1.0, 1.5, 3.0, 1.5),  # A < 0, ratio above 1 + eps: unclipped, under the dual cap
        (-1.0, 5.0, 3.0, 3.0),  # A < 0, huge ratio: dual clip caps at -A * 3
        (-1.0, 5.0, None, 5.0),  # no dual clip
        (-1.0, 0.5, 3.0, 0.8),  # A < 0, ratio below 1 - eps: clipped
        (2.0, 1.0, 3.0, -2.0),  # on-policy: -A
    ],
)
def test_clipped_surrogate_table(advantage, ratio, dual_clip, expected):
    loss, _ = clipped_surrogate(
        torch.tensor([math.log(ratio)]), torch.tensor([0.0]), torch.tensor([advantage]), dual_clip=dual_clip
    )
    assert loss.item() == pytest.approx(expected)


@pytest.mark.parametrize(
    "aggregation, groups, expected",
    [
        ("token-mean", [0, 0, 1], [[0.25, 0.25], [0.25, 0.0], [0.25, 0.0]]),
        # per-sequence token mean, mean within group (2 or 1 members), mean over the 2 groups
        ("seq-mean-group-mean", [0, 0, 1], [[0.125, 0.125], [0.25, 0.0], [0.5, 0.0]]),
        ("seq-mean-group-mean", ["a", "b", "c"], [[1 / 6, 1 / 6], [1 / 3, 0.0], [1 / 3, 0.0]]),
    ],
)
def test_token_weights(aggregation, groups, expected):
    mask = torch.tensor([[1, 1], [1, 0], [1, 0]])
    w = token_weights(mask, groups, aggregation)
    torch.testing.assert_close(w, torch.tensor(expected))
    assert w.sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "total_tokens, num_processes, coefficient",
    [
        (None, 1, 1 / 4),  # this process's 4 tokens
        (10, 2, 2 / 10),  # 10 tokens over 2 processes: after DDP's average, each token counts 1/10
        (torch.tensor(12.0), 3, 3 / 12),
    ],
)
def test_token_mean_over_processes(total_tokens, num_processes, coefficient):
    mask = torch.tensor([[1, 1], [1, 0], [1, 0]])
    w = token_weights(mask, [0, 0, 1], "token-mean", total_tokens=total_tokens, num_processes=num_processes)
    torch.testing.assert_close(w, mask * coefficient)


def test_unknown_aggregation():
    with pytest.raises(ValueError, match="unknown aggregation 'sum'"):
        token_weights(torch.ones(1, 1), [0], "sum")


def _step(weights: list[float], mask: torch.Tensor, aggregation: str = "token-mean"):
    """One gradient step of the V-Zero loss on a free-logit policy; returns (before, after, grad)."""
    torch.manual_seed(0)
    B, T, V = mask.shape[0], mask.shape[1], 5
    logits = torch.randn(B, T, V, requires_grad=True)
    tokens = torch.randint(0, V, (B, T))
    teacher = torch.log_softmax(torch.randn(B, T, V), -1).gather(-1, tokens[..., None])[..., 0]

    def logprobs():
        return torch.log_softmax(logits, -1).gather(-1, tokens[..., None])[..., 0]

    before = logprobs()
    adv = opd_token_advantages(before.detach(), teacher, torch.tensor(weights), mask)
    loss, stats = policy_loss(before, before.detach(), adv, token_weights(mask, list(range(B)), aggregation))
    loss.backward()
    assert stats["loss/ratio_mean"] == pytest.approx(1.0)
    with torch.no_grad():
        logits -= 0.1 * logits.grad
    return before.detach(), logprobs().detach(), teacher, logits.grad


@pytest.mark.parametrize("aggregation", ["token-mean", "seq-mean-group-mean"])
def test_gradient_moves_student_toward_teacher(aggregation):
    mask = torch.ones(2, 4)
    before, after, teacher, _ = _step([1.0, 2.0], mask, aggregation)
    prefers = teacher > before  # the teacher gives the sampled token more mass than the student
    assert prefers.any() and (~prefers).any()
    assert (after[prefers] > before[prefers]).all()
    assert (after[~prefers] < before[~prefers]).all()


def test_zero_weight_and_masked_tokens_get_no_gradient():
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    _, _, _, grad = _step([0.0, 1.0], mask)
    assert torch.count_nonzero(grad[0]) == 0, "weight 0: the sequence contributes nothing"
    assert torch.count_nonzero(grad[1, 2]) == 0, "masked token: no gradient"
    assert torch.count_nonzero(grad[1, :2]) > 0


@pytest.mark.parametrize(
    "kind, expected",
    [
        # sequence sums: group 0 (rows 0, 1) = 2, 3; group 1 (rows 2, 3) = -4, 0 over 2 and 3 tokens
        ("none", [[1.0, 1.0, 0.0], [3.0, 0.0, 0.0], [-2.0, -2.0, 0.0], [0.0, 0.0, 0.0]]),
        # minus the group's mean (2.5 and -2), spread over each sequence's tokens
        ("group_mean", [[-0.25, -0.25, 0.0], [0.5, 0.0, 0.0], [-1.0, -1.0, 0.0], [2 / 3, 2 / 3, 2 / 3]]),
        # minus the other sequences' mean (3, 2; 0, -4)
        ("leave_one_out", [[-0.5, -0.5, 0.0], [1.0, 0.0, 0.0], [-2.0, -2.0, 0.0], [4 / 3, 4 / 3, 4 / 3]]),
    ],
)
def test_group_baseline_table(kind, expected):
    advantages = torch.tensor([[1.0, 1.0, 0.0], [3.0, 0.0, 0.0], [-2.0, -2.0, 0.0], [0.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]])
    out = with_group_baseline(advantages, mask, [0, 0, 1, 1], kind)
    torch.testing.assert_close(out, torch.tensor(expected))
    if kind == "group_mean":  # each group's sequence sums now add up to zero
        sums = (out * mask).sum(-1)
        torch.testing.assert_close(sums[:2].sum(), torch.tensor(0.0))
        torch.testing.assert_close(sums[2:].sum(), torch.tensor(0.0))


def test_a_sequence_alone_in_its_group_has_no_leave_one_out_baseline():
    out = with_group_baseline(torch.tensor([[2.0, 2.0]]), torch.ones(1, 2), [7], "leave_one_out")
    torch.testing.assert_close(out, torch.tensor([[2.0, 2.0]]))


def _logprobs(row):
    return torch.log(torch.tensor(row, dtype=torch.float32))


@pytest.mark.parametrize(
    "student, teacher, ids, expected",
    [
        # the whole vocabulary of 3: the exact KL
        ([0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0, 1, 2], 0.5 * math.log(2) - 0.25 * math.log(2)),
        # top-1 of the teacher (token 1) plus the rest as one bucket: student 0.25 / 0.75, teacher 0.5 / 0.5
        ([0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [1], 0.25 * math.log(0.5) + 0.75 * math.log(1.5)),
        # same distributions: 0
        ([0.2, 0.3, 0.5], [0.2, 0.3, 0.5], [2, 0], 0.0),
    ],
)
def test_topk_reverse_kl_known_values(student, teacher, ids, expected):
    s, t = _logprobs(student), _logprobs(teacher)
    index = torch.tensor(ids)
    kl = topk_reverse_kl(s[index][None, None], t[index][None, None])
    assert kl.item() == pytest.approx(expected, abs=1e-6)


def test_topk_reverse_kl_is_a_lower_bound_of_the_full_kl_and_pulls_the_student_to_the_teacher():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 11, requires_grad=True)
    teacher = torch.log_softmax(torch.randn(2, 3, 11), -1)
    student = torch.log_softmax(logits, -1)
    full = (student.exp() * (student - teacher)).sum(-1)
    ids = teacher.topk(4, -1).indices
    kl = topk_reverse_kl(student.gather(-1, ids), teacher.gather(-1, ids))
    assert bool((kl <= full + 1e-6).all()) and bool((kl >= -1e-6).all())
    kl.sum().backward()
    with torch.no_grad():
        moved = torch.log_softmax(logits - 0.5 * logits.grad, -1)
        after = topk_reverse_kl(moved.gather(-1, ids), teacher.gather(-1, ids))
    assert after.sum() < kl.sum()


@pytest.mark.parametrize(
    "weights, expected", [([1.0, 1.0], 1.0), ([1.0, 0.0], 0.5), ([2.0, 1.0], 1.5), ([0.0, 0.0], 0.0)]
)
def test_distillation_loss_scales_each_sequence_by_its_gate_weight(weights, expected):
    s = torch.log(torch.tensor([[[0.5, 0.25]], [[0.5, 0.25]]]))
    t = torch.log(torch.tensor([[[0.25, 0.5]], [[0.25, 0.5]]]))
    kl = topk_reverse_kl(s[:1], t[:1]).item()
    loss, stats = distillation_loss(s, t, torch.tensor(weights), torch.tensor([[0.5], [0.5]]))
    assert loss.item() == pytest.approx(expected * kl) and stats["loss/reverse_kl"] == pytest.approx(kl)
