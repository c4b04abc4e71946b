"""The audit against a real teacher: a tiny teacher trained here on the shared-colour world, as the
evidence sandbox trained its quick teacher, audited on held-out scenes (n >= 100 per strategy).
Negatives that replace the target (``downsampled_distractor``, ``distractor``, ``masked``) must
remove the evidence; those that keep its colour (``degraded``, ``shuffled``, ``downsampled_view``)
must be caught keeping it; the question alone must score near chance; label-free mode must rank the
strategies as labelled does."""

import pytest

from tests.audit_world import NEGATIVES, TEST_SEED, build_split
from vzero_data.audit import AuditConfig, run_audit, summarize
from vzero_data.store import open_store

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]
REMOVERS = ["downsampled_distractor", "distractor", "masked"]
KEEPERS = ["degraded", "shuffled", "downsampled_view"]
SCENES = 120


@pytest.fixture(scope="module")
def audited(tmp_path_factory, trained_teacher):
    """``{mode: summary}`` of one labelled and one label-free audit of the held-out split."""
    root = tmp_path_factory.mktemp("held-out")
    negatives = [n for n in NEGATIVES if n["strategy"] in REMOVERS + KEEPERS]  # the sandbox's params
    store = build_split(root, "test", SCENES, TEST_SEED, negatives=negatives)
    out = {}
    for mode in ("labelled", "label_free"):
        config = AuditConfig(
            teacher=trained_teacher,
            mode=mode,
            execution={"batch_size": 8, "micro_batch_size": 64, "device": "cpu", "progress": False},
        )
        outcome = run_audit(store, config)
        assert outcome.audited == SCENES and not outcome.failed
        out[mode] = summarize(open_store(store), outcome.teacher.id, outcome.audit_hash)
    return out


@pytest.mark.parametrize("strategy", REMOVERS)
def test_negatives_that_replace_the_target_remove_the_evidence(audited, strategy):
    removal = audited["labelled"]["strategies"][strategy]["removal"]
    assert removal["n"] >= 100 and removal["rate"] >= 0.6, removal


@pytest.mark.parametrize("strategy", KEEPERS)
def test_negatives_that_keep_the_colour_are_caught_keeping_the_evidence(audited, strategy):
    removal = audited["labelled"]["strategies"][strategy]["removal"]
    assert removal["n"] >= 100 and removal["rate"] <= 0.1, removal


def test_the_question_alone_scores_near_chance_and_the_crop_carries_the_answer(audited):
    s = audited["labelled"]
    text = s["contexts"]["text_only"]
    assert text["n"] == SCENES and text["ci_low"] <= s["chance"] <= text["ci_high"], (text, s["chance"])
    assert s["contexts"]["positive"]["rate"] >= 0.8
    assert s["zooming_gap"]["crop_minus_full"] >= 0.4  # the teacher reads the crop, not the full image


def test_label_free_ranks_the_strategies_as_labelled_does(audited):
    from scipy.stats import spearmanr

    names = REMOVERS + KEEPERS
    rates = {m: [audited[m]["strategies"][n]["removal"]["rate"] for n in names] for m in audited}
    assert spearmanr(rates["labelled"], rates["label_free"]).statistic >= 0.8, rates
    for mode, r in rates.items():  # every remover ranks above every keeper in both modes
        assert min(r[: len(REMOVERS)]) > max(r[len(REMOVERS) :]), (mode, r)
    assert audited["label_free"]["modes"] == {"labelled": 0, "label_free": SCENES}


def test_a_trained_teacher_gives_the_gate_signal(audited):
    s = audited["labelled"]
    assert s["flags"]["no_gate_signal"] <= 0.05 * SCENES
    for strategy in REMOVERS:  # the reference answer is up-weighted where the negative removes it
        assert s["strategies"][strategy]["gate_weight"]["q50"] > 1.3
