"""The sandbox report says what happened: a collapsed student is flagged, chance is shown, and the
gate's statistics appear only for gated arms."""

from vzero_train.sandbox.answers import answer_profile
from vzero_train.sandbox.report import DOCS, markdown, write

OPTIONS = ("red", "blue", "green", "pink")


def arm(answers, accuracy=0.25, gate=None):
    rows = [
        {"prediction": "ABCD"[OPTIONS.index(a)] if a in OPTIONS else None, "options": OPTIONS, "response": a}
        for a in answers
    ]
    return {
        "accuracy": accuracy,
        "ci_low": accuracy - 0.05,
        "ci_high": accuracy + 0.05,
        "n": len(rows),
        "seeds": 1,
        "final_step": 4,
        "checkpoints": ["run/model"],
        "by_step": {
            "0": {"accuracy": 0.5, "ci_low": 0.4, "ci_high": 0.6},
            "4": {"accuracy": accuracy, "ci_low": accuracy - 0.05, "ci_high": accuracy + 0.05},
        },
        "gate": gate or {},
        "answers": answer_profile(rows),
    }


def report(arms):
    return {
        "command": "vzero-train sandbox --quick",
        "quick": True,
        "wall_time_s": 10.0,
        "machine": {"description": "test"},
        "steps": {"arm": 4, "teacher": 1, "student": 1},
        "world": {
            "name": "big_small",
            "sizes": {"test": 20},
            "knobs": {"size": 112, "n_options": 4, "target_side": [0.3, 0.42]},
            "shortcut": {
                "rule": "commonest option colour by pixels",
                "accuracy": 1.0,
                "n": 20,
                "chance": 0.25,
            },
        },
        "teacher": {"views": {"positive": {"accuracy": 0.9, "n": 20, "correct_logprob": -0.1}}},
        "arms": arms,
        "paired": [],
        "stages": {"world": 1.0},
    }


def test_a_collapsed_student_is_flagged_and_a_healthy_one_is_not():
    text = markdown(
        report({"base": arm(["red", "blue", "green", "pink"] * 5, 0.5), "plain": arm(["blue"] * 20)})
    )
    assert "Warning: collapsed students.** plain gave one answer" in text
    plain_row = next(line for line in text.splitlines() if line.startswith("| plain |"))
    base_row = next(line for line in text.splitlines() if line.startswith("| base |"))
    assert plain_row.endswith("| **yes** |") and "blue 100%" in plain_row
    assert base_row.endswith("| no |")


def test_the_report_shows_chance_the_guide_and_gate_columns_only_for_gated_arms():
    gate = {"gate/weight_mean": 1.0, "gate/weight_min": 0.2, "gate/weight_max": 1.8}
    text = markdown(
        report({"base": arm(["red"] * 3 + ["blue"]), "gate_distractor": arm(["red", "blue"], gate=gate)})
    )
    assert DOCS in text and "chance 25.0%" in text and "nan" not in text
    assert "| gate_distractor | 1.00/0.20/1.80 |" in text and "| base | 1.00" not in text


def test_plots_are_written(tmp_path):
    paths = write(report({"base": arm(["red", "blue"], 0.5), "plain": arm(["red", "blue"], 0.6)}), tmp_path)
    assert paths["markdown"].is_file() and paths["json"].is_file()
    assert paths["arms"].stat().st_size > 0 and paths["accuracy_vs_step"].stat().st_size > 0
