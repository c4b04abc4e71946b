import pytest
import torch

from vzero_core.vlm.models import ModelCompatibilityError, load_vlm
from vzero_train.teacher import build_teacher, ema_update


def _linear(value: float, dtype=torch.float32) -> torch.nn.Linear:
    layer = torch.nn.Linear(2, 1).to(dtype)
    with torch.no_grad():
        layer.weight.fill_(value)
        layer.bias.fill_(value)
    return layer


@pytest.mark.parametrize(
    "decay, teacher_value, student_value, expected",
    [
        (0.0, 5.0, 1.0, 1.0),  # d = 0 copies the student
        (0.5, 4.0, 2.0, 3.0),
        (0.95, 1.0, 3.0, 1.1),  # 0.95 * 1 + 0.05 * 3
    ],
)
def test_ema_update(decay, teacher_value, student_value, expected):
    teacher, student = _linear(teacher_value), _linear(student_value)
    ema_update(teacher, student, decay)
    assert teacher.weight.flatten().tolist() == pytest.approx([expected, expected])
    assert teacher.bias.item() == pytest.approx(expected)
    assert student.weight.flatten().tolist() == [student_value] * 2


def test_ema_keeps_increments_bf16_would_lose():
    teacher, student = _linear(1.0), _linear(1.0, torch.bfloat16)
    with torch.no_grad():
        student.weight.fill_(1.25)
    for _ in range(10):  # each step moves the teacher by 0.02 * 0.25 = 0.005 or less
        ema_update(teacher, student, 0.98)
    assert teacher.weight.dtype == torch.float32
    assert teacher.weight[0, 0].item() == pytest.approx(1.0 + 0.25 * (1 - 0.98**10), rel=1e-6)
    # the same average kept in bf16 (spacing 2**-7 near 1) drifts far from the exact value
    coarse = _linear(1.0, torch.bfloat16)
    for _ in range(10):
        ema_update(coarse, student, 0.98)
    assert abs(coarse.weight[0, 0].item() - teacher.weight[0, 0].item()) > 1e-2


def test_ema_decay_range():
    with pytest.raises(ValueError, match="decay must be in \\[0, 1\\)"):
        ema_update(_linear(0.0), _linear(1.0), 1.0)


def test_self_teachers_copy_the_student(tiny_vlm):
    student = load_vlm(tiny_vlm("qwen2_vl"), device="cpu", trainable=True)
    frozen = build_teacher("frozen_self", student)
    ema = build_teacher("ema", student, decay=0.5)
    name, param = next(iter(student.model.named_parameters()))
    with torch.no_grad():
        before = param.clone()
        param.add_(1.0)
    frozen.update(student.model)
    ema.update(student.model)
    assert torch.equal(dict(frozen.model.named_parameters())[name], before), "frozen teacher never moves"
    torch.testing.assert_close(dict(ema.model.named_parameters())[name], before + 0.5)
    assert all(p.dtype == torch.float32 and not p.requires_grad for p in ema.model.parameters())
    assert frozen.state_dict() is None and ema.state_dict() is not None
    assert frozen.processor is student.processor


def test_external_teacher_needs_same_tokenizer(tiny_vlm):
    student = load_vlm(tiny_vlm("qwen2_5_vl"), device="cpu", trainable=True)
    teacher = build_teacher("external", student, path=tiny_vlm("qwen2_5_vl", "teacher"), device="cpu")
    assert teacher.kind == "external" and not teacher.model.training
    with pytest.raises(ModelCompatibilityError, match="tokenizers differ"):
        build_teacher("external", student, path=tiny_vlm("idefics3"), device="cpu")
    with pytest.raises(ValueError, match="needs a model path"):
        build_teacher("external", student)
