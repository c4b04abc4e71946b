"""The audit's settings: every field that can change its rows is in the audit hash; who runs it and
how fast are not; a bad field is a located error."""

import pytest

from vzero_core.recipe_base import RecipeError
from vzero_data.audit.config import AuditConfig, audit_hash, load_audit_config

BASE = AuditConfig(teacher="t")
HASH = audit_hash(BASE, "cfg", ["masked"])


@pytest.mark.parametrize(
    "overrides",
    [
        ["positive_strategy=crop"],
        ["mode=label_free"],
        ["mode=labelled"],
        ["answer=letter"],
        ["max_new_tokens=8"],
        ["prompts.system=Look."],
        ["prompts.student='<image> {question}'"],
        ["prompts.teacher='<image> {question} zoom: <crop>'"],
        ["thresholds.min_gap=1.0"],
        ["thresholds.min_score_std=0.5"],
        ["gate.alpha=1.0"],
        ["gate.gamma=2.0"],
        ["gate.w_min=0.1"],
        ["gate.w_max=3.0"],
        ["gate.eps=0.001"],
        ["reject.negatives=true"],
        ["reject.no_gate_signal=true"],
    ],
)
def test_every_output_field_changes_the_hash(overrides):
    assert audit_hash(load_audit_config({"teacher": "t"}, overrides), "cfg", ["masked"]) != HASH


@pytest.mark.parametrize(
    "overrides",
    [
        ["teacher=other"],
        ["execution.batch_size=2"],
        ["execution.device=cpu"],
        ["execution.limit=3"],
        ["execution.workers=2"],
        ["execution.executor=ray"],
        ["execution.flush_every=1"],
        ["execution.ray.actors=4"],
        # hashed as what they resolve to: the curation config and the strategies scored
        ["strategies=[masked]"],
        ["config_hash=cfg"],
    ],
)
def test_who_runs_it_and_how_fast_keep_the_hash(overrides):
    assert audit_hash(load_audit_config({"teacher": "t"}, overrides), "cfg", ["masked"]) == HASH


def test_the_views_audited_are_in_the_hash():
    assert audit_hash(BASE, "other", ["masked"]) != HASH
    assert audit_hash(BASE, "cfg", ["masked", "shuffled"]) != HASH
    assert audit_hash(BASE, "cfg", ["shuffled", "masked"]) == audit_hash(BASE, "cfg", ["masked", "shuffled"])


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            ["mode=sometimes"],
            r"where: audit.mode: expected 'auto', 'labelled' or 'label_free', got 'sometimes'",
        ),
        (["execution.batch_size=0"], r"where: audit.execution.batch_size: expected .*>= 1, got 0"),
        (["thresholds.min_gapp=1"], r"where: audit.thresholds.min_gapp: .*allowed: min_gap, min_score_std"),
        (["prompts.teacher='{question} <crop>'"], r"where: audit.prompts"),
        (["execution.device=tpu"], r"where: audit.execution.device"),
        (["strategies=[]"], r"where: audit.strategies"),
    ],
)
def test_bad_settings_are_located_errors(overrides, message):
    with pytest.raises(RecipeError, match=message):
        load_audit_config({"teacher": "t"}, overrides, "where")


def test_a_teacher_is_required():
    with pytest.raises(RecipeError, match="audit.teacher: .*required"):
        load_audit_config({}, [], "where")
