"""Step-0 guards through the real trainer: a model that never sees its image stops the run before
the first update, naming which model and which image."""

import pytest
import torch

from vzero_train.preflight import PreflightError
from vzero_train.trainer import Trainer


def blind(model):
    """Make ``model`` ignore its images: every pixel it receives is zero."""
    forward = model.forward

    def without_pixels(*args, pixel_values=None, **kwargs):
        if pixel_values is not None:
            pixel_values = torch.zeros_like(pixel_values)
        return forward(*args, pixel_values=pixel_values, **kwargs)

    model.forward = without_pixels


@pytest.fixture
def trainer(train_config, records):
    return Trainer(train_config("qwen2_5_vl"), records=lambda: records)


def test_images_that_reach_the_models_pass(trainer):
    report = trainer.preflight()
    assert report.student_image_effect > 1e-4 and report.teacher_crop_effect > 1e-4


@pytest.mark.parametrize(
    "role, message",
    [
        ("student", r"student's log-probs are the same with the real image and with a blank one"),
        ("teacher", r"teacher's log-probs are the same with the positive crop and with a blank crop"),
    ],
)
def test_a_model_blind_to_its_image_stops_the_run_before_any_update(trainer, role, message):
    blind(trainer.model if role == "student" else trainer.teacher.model)
    before = {k: v.detach().clone() for k, v in trainer.student.model.named_parameters()}
    with pytest.raises(PreflightError, match=message + r" \(checked on sample .* before the first update\)"):
        trainer.train()
    assert trainer.step == 0 and trainer.last_checkpoint is None
    after = dict(trainer.student.model.named_parameters())
    assert all(torch.equal(before[k], after[k]) for k in before)
