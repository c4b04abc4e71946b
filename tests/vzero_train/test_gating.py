import pytest
import torch

from vzero_train.gating import evidence_scores, evidence_weights, gate_metrics, group_standardize

# Three responses of one prompt, two token slots each. Evidence margins delta = l_plus - l_minus:
#   A: [2, -1]        B: [1, 1]        C: [-1, (masked)]
# scores p = masked mean of relu(delta) - gamma * relu(-delta):
#   gamma = 1 -> p = [0.5, 1, -1]      gamma = 2 -> p = [0, 1, -2]
L_MINUS = torch.zeros(3, 2)
L_PLUS = torch.tensor([[2.0, -1.0], [1.0, 1.0], [-1.0, 0.0]])
MASK = torch.tensor([[1, 1], [1, 1], [1, 0]])
ONE_GROUP = [0, 0, 0]


@pytest.mark.parametrize(
    "gamma, expected",
    [(1.0, [0.5, 1.0, -1.0]), (2.0, [0.0, 1.0, -2.0]), (0.0, [1.0, 1.0, 0.0])],
)
def test_scores(gamma, expected):
    assert evidence_scores(L_PLUS, L_MINUS, MASK, gamma=gamma).tolist() == pytest.approx(expected)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        # p = [0.5, 1, -1]: mean 1/6, population std sqrt(78/108); w = 1 + 0.5 a
        ({}, [1.19612, 1.49029, 0.31359]),
        # gamma 2: p = [0, 1, -2], mean -1/3, population std sqrt(42/27)
        ({"gamma": 2.0}, [1.13363, 1.53452, 0.33185]),
        # alpha 1: the third weight 1 - 1.37 is clipped to w_min = 0
        ({"alpha": 1.0}, [1.39223, 1.98058, 0.0]),
        # alpha 2: clipped at both ends
        ({"alpha": 2.0}, [1.78446, 2.0, 0.0]),
        ({"w_min": 0.5, "w_max": 1.2}, [1.19612, 1.2, 0.5]),
    ],
)
def test_weights_hand_computed(kwargs, expected):
    w = evidence_weights(L_PLUS, L_MINUS, MASK, ONE_GROUP, **kwargs)
    assert w.dtype == torch.float32 and w.shape == (3,)
    assert w.tolist() == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    "scores, groups, expected",
    [
        ([1.0, -1.0], ["a", "a"], [1.0, -1.0]),  # population std 1 (sample std would give 0.707)
        ([3.0, 3.0, 3.0], [0, 0, 0], [0.0, 0.0, 0.0]),  # equal scores: std 0 -> a = 0
        ([5.0, 1.0, -1.0], [7, 9, 9], [0.0, 1.0, -1.0]),  # singleton group gets 0
        ([1.0, -1.0, 3.0, 3.0], ["x", "x", "y", "y"], [1.0, -1.0, 0.0, 0.0]),  # groups independent
        ([2.0, 0.0, 4.0, 0.0], [0, 1, 0, 1], [-1.0, 0.0, 1.0, 0.0]),  # interleaved group members
    ],
)
def test_group_standardize(scores, groups, expected):
    a = group_standardize(torch.tensor(scores), groups)
    assert a.tolist() == pytest.approx(expected, abs=1e-5)


def test_equal_scores_and_singletons_give_weight_one():
    l_plus = torch.tensor([[0.3, 0.3], [0.3, 0.3], [-2.0, 1.0]])
    l_minus = torch.zeros(3, 2)
    w = evidence_weights(l_plus, l_minus, torch.ones(3, 2), [0, 0, 1])
    assert w.tolist() == [1.0, 1.0, 1.0]


def test_empty_response_scores_zero():
    p = evidence_scores(torch.ones(1, 3), torch.zeros(1, 3), torch.zeros(1, 3))
    assert p.tolist() == [0.0]


def test_weights_are_detached():
    l_plus = torch.tensor([[1.0, 0.0], [0.0, -1.0]], requires_grad=True)
    w = evidence_weights(l_plus, torch.zeros(2, 2), torch.ones(2, 2), [0, 0])
    assert not w.requires_grad


@pytest.mark.parametrize(
    "shapes",
    [((2, 3), (2, 3), (2, 4)), ((2, 3), (3, 3), (2, 3)), ((6,), (6,), (6,))],
)
def test_shape_mismatch_is_rejected(shapes):
    a, b, m = (torch.zeros(s) for s in shapes)
    with pytest.raises(ValueError, match="one \\(B, T\\) shape"):
        evidence_weights(a, b, m, [0] * a.shape[0])


def test_group_ids_must_match_batch():
    with pytest.raises(ValueError, match="2 group ids for 3 sequences"):
        evidence_weights(L_PLUS, L_MINUS, MASK, [0, 0])


def test_metrics():
    w = evidence_weights(L_PLUS, L_MINUS, MASK, ONE_GROUP, alpha=1.0)
    m = gate_metrics(L_PLUS, L_MINUS, MASK, w)
    assert m["gate/score_mean"] == pytest.approx(1 / 6)
    assert m["gate/score_std"] == pytest.approx((78 / 108) ** 0.5)
    assert m["gate/weight_min"] == 0.0 and m["gate/weight_max"] == pytest.approx(1.98058, abs=1e-5)
    assert m["gate/frac_at_w_min"] == pytest.approx(1 / 3)
    # response tokens' deltas: 2, -1, 1, 1, -1
    assert m["gate/delta_mean"] == pytest.approx(0.4)
    assert m["gate/frac_delta_pos"] == pytest.approx(0.6)


def test_non_finite_values_on_padding_do_not_leak():
    padded_plus = L_PLUS.clone()
    padded_plus[2, 1] = float("-inf")  # a masked slot, e.g. padding filled with -inf
    padded_minus = L_MINUS.clone()
    padded_minus[2, 1] = float("nan")
    assert evidence_scores(padded_plus, padded_minus, MASK).tolist() == pytest.approx([0.5, 1.0, -1.0])
    assert torch.isfinite(evidence_weights(padded_plus, padded_minus, MASK, ONE_GROUP)).all()
