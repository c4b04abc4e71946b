"""From a teacher's scores to an audit's rows: hand-computed tables of gaps, gate weights and flags."""

import json
import math

import pytest
import torch

from vzero_core.vlm.option_scoring import CROP_ONLY, FULL_IMAGE, POSITIVE, TEXT_ONLY, CandidateScores
from vzero_data.audit.verdicts import (
    CROP_MISSES_EVIDENCE,
    NEGATIVE,
    NEGATIVE_KEEPS_EVIDENCE,
    NO_GATE_SIGNAL,
    TEXT_ANSWERS,
    Judging,
    ScoredViews,
    label_free_reference,
    sample_verdict,
)

LN2 = math.log(2)
JUDGING = Judging(min_gap=LN2, min_score_std=0.01)
VIEWS = ScoredViews("s1", "cfg", "s1:pos", "crop", {"removes": "s1:neg0", "keeps": "s1:neg1"})

# one-token candidates (K=2): log-probs per context; the reference is candidate 0
TABLE = {
    POSITIVE: [-0.1, -2.5],
    "removes": [-1.5, -0.3],  # gap 1.4; delta (1.4, -2.2): scores (1.4, -2.2), std 1.8 -> a (1, -1)
    "keeps": [-0.2, -2.4],  # gap 0.1 < ln 2; delta (0.1, -0.1): std 0.1 -> a (1, -1) all the same
    FULL_IMAGE: [-1.0, -0.5],
    CROP_ONLY: [-0.3, -1.0],
    TEXT_ONLY: [-0.7, -0.8],  # right, gap 0.6 < ln 2: the question alone answers
}


def scores(table):
    return CandidateScores(
        {c: torch.tensor(v, dtype=torch.float32)[:, None] for c, v in table.items()}, torch.ones(2, 1)
    )


def verdict(table=TABLE, *, reference=0, mode="labelled", judging=JUDGING, multiple_choice=True):
    return sample_verdict(
        scores(table),
        candidates=("red", "blue"),
        reference_index=reference,
        mode=mode,
        multiple_choice=multiple_choice,
        views=VIEWS,
        judging=judging,
    )


def by_key(v):
    return {(r["context"], r["strategy"]): r for r in v.rows}


def test_one_row_per_context_joined_to_its_view():
    rows = by_key(verdict())
    assert set(rows) == {
        (POSITIVE, "crop"),
        (NEGATIVE, "removes"),
        (NEGATIVE, "keeps"),
        (FULL_IMAGE, None),
        (CROP_ONLY, "crop"),
        (TEXT_ONLY, None),
    }
    assert [rows[k]["view_id"] for k in [(POSITIVE, "crop"), (NEGATIVE, "removes"), (CROP_ONLY, "crop")]] == [
        "s1:pos",
        "s1:neg0",
        "s1:pos",
    ]
    assert rows[(FULL_IMAGE, None)]["view_id"] is None


@pytest.mark.parametrize(
    "key, logprob, correct, gap",
    [
        ((POSITIVE, "crop"), -0.1, True, None),
        ((NEGATIVE, "removes"), -1.5, False, 1.4),
        ((NEGATIVE, "keeps"), -0.2, True, 0.1),
        ((FULL_IMAGE, None), -1.0, False, None),
        ((CROP_ONLY, "crop"), -0.3, True, None),
        ((TEXT_ONLY, None), -0.7, True, 0.6),
    ],
)
def test_logprob_correctness_and_gap(key, logprob, correct, gap):
    row = by_key(verdict())[key]
    assert row["logprob"] == pytest.approx(logprob)
    assert row["correct"] is correct
    assert row["gap"] == (None if gap is None else pytest.approx(gap))


@pytest.mark.parametrize(
    "strategy, weights, std",
    [("removes", [1.5, 0.5], 1.8), ("keeps", [1.5, 0.5], 0.1)],
)
def test_gate_weights_are_the_trainers_over_the_candidates(strategy, weights, std):
    row = by_key(verdict())[(NEGATIVE, strategy)]
    assert row["gate_weights"] == pytest.approx(weights, abs=1e-4)
    assert row["gate_weight"] == pytest.approx(weights[0], abs=1e-4)
    assert row["score_std"] == pytest.approx(std, abs=1e-6)


@pytest.mark.parametrize(
    "key, flags",
    [
        ((POSITIVE, "crop"), []),
        ((NEGATIVE, "removes"), []),
        ((NEGATIVE, "keeps"), [NEGATIVE_KEEPS_EVIDENCE]),
        ((FULL_IMAGE, None), []),
        ((TEXT_ONLY, None), [TEXT_ANSWERS]),
    ],
)
def test_flags_land_on_the_row_they_concern(key, flags):
    row = by_key(verdict())[key]
    assert row["flags"] == flags
    assert sorted(json.loads(row["flag_details"])) == sorted(flags)


def test_a_wrong_crop_where_the_full_image_answers_misses_the_evidence():
    table = {**TABLE, POSITIVE: [-2.0, -0.2], FULL_IMAGE: [-0.3, -1.2]}
    assert by_key(verdict(table))[(POSITIVE, "crop")]["flags"] == [CROP_MISSES_EVIDENCE]
    # label-free the teacher's own answer is the reference: its crop is never "wrong"
    assert (
        CROP_MISSES_EVIDENCE
        not in by_key(verdict(table, reference=1, mode="label_free"))[(POSITIVE, "crop")]["flags"]
    )


def test_the_question_alone_answering_wrong_is_no_text_shortcut():
    table = {**TABLE, TEXT_ONLY: [-0.9, -0.2]}
    assert by_key(verdict(table))[(TEXT_ONLY, None)]["flags"] == []


def test_no_gate_signal_when_every_negative_spreads_the_scores_by_noise():
    table = {**TABLE, "removes": [-0.101, -2.499], "keeps": [-0.1, -2.5]}
    v = verdict(table)
    positive = by_key(v)[(POSITIVE, "crop")]
    assert NO_GATE_SIGNAL in positive["flags"]
    assert NO_GATE_SIGNAL not in by_key(verdict())[(POSITIVE, "crop")]["flags"]  # one real spread is enough


def test_swapping_the_positive_and_a_negative_flips_the_gap():
    """Scoring the negative in the positive's place would make every gap negative: pinned here."""
    swapped = {**TABLE, POSITIVE: TABLE["removes"], "removes": TABLE[POSITIVE]}
    assert by_key(verdict(swapped))[(NEGATIVE, "removes")]["gap"] == pytest.approx(-1.4)
    assert NEGATIVE_KEEPS_EVIDENCE in by_key(verdict(swapped))[(NEGATIVE, "removes")]["flags"]


def test_open_questions_have_no_correctness_and_no_gate():
    table = {c: [v[0]] for c, v in TABLE.items()}
    v = sample_verdict(
        CandidateScores({c: torch.tensor(x)[:, None] for c, x in table.items()}, torch.ones(1, 1)),
        candidates=("red",),
        reference_index=0,
        mode="labelled",
        multiple_choice=False,
        views=VIEWS,
        judging=JUDGING,
    )
    rows = by_key(v)
    assert all(r["correct"] is None and r["gate_weight"] is None for r in v.rows)
    assert rows[(NEGATIVE, "keeps")]["flags"] == [NEGATIVE_KEEPS_EVIDENCE]
    assert rows[(TEXT_ONLY, None)]["flags"] == [TEXT_ANSWERS]  # within ln 2 of the positive


def test_label_free_reference_is_the_positive_contexts_choice():
    assert label_free_reference(scores(TABLE)) == 0
    assert label_free_reference(scores({**TABLE, POSITIVE: [-3.0, -0.1]})) == 1


@pytest.mark.parametrize(
    "reject_negatives, reject_no_gate, table, rejected, reasons",
    [
        (False, False, TABLE, set(), []),
        (True, False, TABLE, {"keeps"}, [NEGATIVE_KEEPS_EVIDENCE]),
        (
            True,
            True,
            {**TABLE, "removes": [-0.101, -2.499], "keeps": [-0.1, -2.5]},
            {"crop", "removes", "keeps", None},
            [NO_GATE_SIGNAL, NEGATIVE_KEEPS_EVIDENCE, NEGATIVE_KEEPS_EVIDENCE],
        ),
    ],
)
def test_the_reject_policy_refuses_views_with_reasons(
    reject_negatives, reject_no_gate, table, rejected, reasons
):
    judging = Judging(LN2, 0.01, reject_negatives=reject_negatives, reject_no_gate_signal=reject_no_gate)
    v = verdict(table, judging=judging)
    assert {r["strategy"] for r in v.rows if not r["accepted"]} == rejected
    assert [reason for reason, _ in v.rejects] == reasons
    assert all("view s1:neg" in detail for reason, detail in v.rejects if reason == NEGATIVE_KEEPS_EVIDENCE)
