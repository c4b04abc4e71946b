"""The step up to the advantages, driven without an Accelerator: scripted responses, real models,
and a teacher whose preference between the positive and the negative view the test controls."""

import numpy as np
import pytest
import torch
from PIL import Image

from vzero_core.vlm.models import load_vlm
from vzero_core.vlm.prompts import PromptTemplates
from vzero_train.config import TrainConfig
from vzero_train.data import PromptItem
from vzero_train.losses import opd_token_advantages
from vzero_train.rollout import HFRollout, RolloutBackend, Samples, SamplingConfig
from vzero_train.step import gated_step, step_metrics, teacher_views
from vzero_train.teacher import Teacher

BIAS = 4.0  # nats added to the chosen token's logit under the positive view


class ScriptedRollout(RolloutBackend):
    """Returns fixed responses (one row per sample, prompt-major) instead of sampling."""

    def __init__(self, responses: list[list[int]], group_size: int, eos_id: int) -> None:
        self.responses = responses
        self.sampling = SamplingConfig(group_size=group_size)
        self.eos_id = eos_id

    def sample(self, model, prompts, images, *, seed, return_logprobs, encoded=None):
        assert len(prompts) * self.sampling.group_size == len(self.responses)
        ids = torch.tensor(self.responses)
        return Samples(ids, torch.full((len(ids),), ids.shape[1]), [self.eos_id], self.eos_id)


class ViewMarkingProcessor:
    """The teacher's processor, plus a ``positive_rows`` flag per prompt: True where the crop slot
    holds an image marked as the positive view. Only the marker differs between the two views."""

    def __init__(self, processor) -> None:
        self.processor = processor
        self.tokenizer = processor.tokenizer

    def __call__(self, *, images, text, **kwargs):
        enc = self.processor(images=images, text=text, **kwargs)
        crops = images[1::2]  # flat [full, crop, full, crop, ...]: one full image and one crop per row
        enc["positive_rows"] = torch.tensor([im.info.get("view") == "positive" for im in crops])
        return enc


class BiasedTeacher(torch.nn.Module):
    """A real teacher whose logits of ``token`` gain ``bias`` in rows that show the positive view."""

    def __init__(self, model, token: int, bias: float) -> None:
        super().__init__()
        self.model, self.token, self.bias = model, token, bias

    def forward(self, *, positive_rows, **inputs):
        out = self.model(**inputs)
        out.logits[positive_rows.to(out.logits.device), :, self.token] += self.bias
        return out


def _view(pixels: Image.Image, name: str) -> Image.Image:
    image = pixels.copy()
    image.info["view"] = name
    return image


@pytest.fixture(scope="module")
def models(tiny_vlm):
    return load_vlm(tiny_vlm("qwen2_5_vl"), device="cpu"), load_vlm(
        tiny_vlm("qwen2_5_vl", "teacher"), device="cpu"
    )


def _items(n: int) -> list[PromptItem]:
    out = []
    for i in range(n):
        full = Image.new("RGB", (96, 64), (40 * i, 90, 160))
        crop = Image.new("RGB", (32, 32), (200, 30 * i, 60))
        # the two views are the same pixels: the teacher's preference comes only from the bias
        out.append(
            PromptItem(
                i,
                f"s{i}",
                f"what colour is object {i}?",
                full,
                _view(crop, "positive"),
                _view(crop, "negative"),
                "test",
            )
        )
    return out


def _config(tiny_vlm, **overrides) -> TrainConfig:
    return TrainConfig.model_validate(
        {
            "student": tiny_vlm("qwen2_5_vl"),
            "teacher": {"kind": "external", "path": tiny_vlm("qwen2_5_vl", "teacher")},
            "rollout": {"group_size": 4},
            "device": "cpu",
            **overrides,
        }
    )


def _tokens(tokenizer) -> tuple[int, int, int]:
    x, o1, o2 = (tokenizer.encode(w, add_special_tokens=False)[0] for w in (" yes", " red", " the"))
    return x, o1, o2


def _step(models, tiny_vlm, responses, **overrides):
    """The step with the view-marking teacher. It marks views where the processor sees the full prompt
    with both images, so it runs the straightforward per_row path; that the shared path routes the
    views the same way is pinned by its equality with this path below."""
    overrides.setdefault("step_inputs", "per_row")
    student, base = models
    x, _, _ = _tokens(student.tokenizer)
    teacher = Teacher(
        BiasedTeacher(base.model, x, BIAS), ViewMarkingProcessor(base.processor), False, "external"
    )
    rollout = ScriptedRollout(responses, 4, student.tokenizer.eos_token_id)
    return gated_step(
        _items(len(responses) // 4),
        student=student,
        teacher=teacher,
        rollout_backend=rollout,
        templates=PromptTemplates(),
        config=_config(tiny_vlm, **overrides),
        seed=0,
    )


def test_teacher_views_put_the_full_image_first_then_the_named_view():
    (item,) = _items(1)
    assert teacher_views([item], "positive") == [[item.image, item.positive]]
    assert teacher_views([item], "negative") == [[item.image, item.negative]]
    with pytest.raises(ValueError, match="'positive' or 'negative'"):
        teacher_views([item], "random")


def test_the_gate_up_weights_what_the_positive_view_supports(models, tiny_vlm):
    """Responses rich in the token the teacher prefers under the positive view get w > 1, the others
    w < 1: the positive view feeds l_plus and the negative view l_minus, not the other way round."""
    x, o1, o2 = _tokens(models[0].tokenizer)
    responses = [
        [x, x, x, x], [x, x, o1, o2], [o1, o2, o1, o2], [o2, o2, o1, o1],  # group 0
        [o1, o1, o2, o2], [x, o1, o2, o1], [o2, o1, o1, o2], [o1, o2, o2, o2],  # group 1
    ]  # fmt: skip
    result = _step(models, tiny_vlm, responses)
    above = [i for i, w in enumerate(result.weights.tolist()) if w > 1.0]
    below = [i for i, w in enumerate(result.weights.tolist()) if w < 1.0]
    assert (above, below) == ([0, 1, 5], [2, 3, 4, 6, 7]), result.weights
    delta = result.l_plus - result.l_minus
    chosen = result.rollout.response_ids == x
    # the bias raises the chosen token's log-prob under the positive view (and, through the
    # normaliser, lowers every other token's a little)
    assert (
        (delta[chosen] > BIAS - 0.5).all() and (delta[~chosen] <= 0).all() and (delta[~chosen] > -0.5).all()
    )
    # the loss distils toward the positive replay only
    expected = opd_token_advantages(
        result.old_logprobs, result.l_plus, result.weights, result.rollout.response_mask
    )
    assert torch.equal(result.advantages, expected)
    metrics = step_metrics(result, _config(tiny_vlm))
    assert metrics["gate/frac_delta_pos"] == pytest.approx(chosen.float().mean().item())


def test_gate_off_replays_the_positive_view_only_with_unit_weights(models, tiny_vlm):
    x, o1, o2 = _tokens(models[0].tokenizer)
    responses = [[x, x, x, x], [o1, o2, o1, o2], [x, o1, o2, o1], [o2, o2, o1, o1]]
    result = _step(models, tiny_vlm, responses, gate={"enabled": False})
    assert result.l_minus is None and result.times["replay"] > 0.0
    assert torch.equal(result.weights, torch.ones(4))
    assert "gate/weight_mean" not in step_metrics(result, _config(tiny_vlm))


def _distinct_items(n: int, negative: str = "test") -> list[PromptItem]:
    """Items whose positive and negative views differ in pixels and size (``relative``: no stored
    negative, the negative replay downsamples the full image and the crop)."""
    return [
        PromptItem(
            i,
            f"s{i}",
            f"what colour is object {i}?",
            Image.new("RGB", (96 + 16 * i, 64), (40 * i, 90, 160)),
            Image.new("RGB", (32, 32), (200, 30 * i, 60)),
            None if negative == "relative" else Image.new("RGB", (48, 40), (10, 200, 30 * i)),
            negative,
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("gate, negative", [(True, "test"), (False, "test"), (True, "relative")])
def test_shared_step_inputs_give_the_straightforward_steps_numbers(models, tiny_vlm, gate, negative):
    """Encoding each image once and branching the teacher's prefix changes no number of the step:
    same samples, same old log-probs, same replays under the same views, same weights and advantages
    (the relative negative, whose full image differs too, branches a prefix of its own)."""
    student, base = models
    teacher = Teacher(base.model, base.processor, False, "external")
    results = {}
    for inputs in ("shared", "per_row"):
        backend = HFRollout(
            student.processor, SamplingConfig(group_size=4, max_new_tokens=5), nested_images=False
        )
        results[inputs] = gated_step(
            _distinct_items(2, negative),
            student=student,
            teacher=teacher,
            rollout_backend=backend,
            templates=PromptTemplates(system="Answer briefly."),
            config=_config(tiny_vlm, step_inputs=inputs, gate={"enabled": gate}, replay_batch_size=3),
            seed=7,
        )
    shared, straight = results["shared"], results["per_row"]
    assert shared.encoded is not None and straight.encoded is None
    assert shared.times["encode"] > 0 and straight.times["encode"] == 0
    assert torch.equal(shared.rollout.response_ids, straight.rollout.response_ids)
    for name in ("old_logprobs", "l_plus"):
        torch.testing.assert_close(
            getattr(shared, name), getattr(straight, name), atol=1e-5, rtol=0, msg=name
        )
    # the gate standardizes scores within a group (std ~5e-3 with a random tiny teacher), which scales
    # the replays' float rounding (~1e-6) up by a few hundred
    for name in ("weights", "advantages"):
        torch.testing.assert_close(
            getattr(shared, name), getattr(straight, name), atol=1e-3, rtol=0, msg=name
        )
    if gate:
        torch.testing.assert_close(shared.l_minus, straight.l_minus, atol=1e-5, rtol=0)
        assert not torch.allclose(shared.l_plus, shared.l_minus)
    else:
        assert shared.l_minus is None and straight.l_minus is None


class SizeRecordingProcessor:
    """The teacher's processor, recording the images of every call."""

    def __init__(self, processor) -> None:
        self.processor, self.tokenizer, self.calls = processor, processor.tokenizer, []

    def __call__(self, *, images, text, **kwargs):
        self.calls.append([im for group in images for im in (group if isinstance(group, list) else [group])])
        return self.processor(images=images, text=text, **kwargs)

    def __getattr__(self, name):  # everything else (image_token, image_processor) is the processor's
        return getattr(self.processor, name)


def test_relative_negative_downsamples_every_teacher_image(models, tiny_vlm):
    """``data.negative: relative``: the negative replay sees the full image and the positive crop,
    both at half size (bicubic); the positive replay sees them unchanged."""
    student, base = models
    rng = np.random.default_rng(0)
    full = Image.fromarray(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8))
    crop = Image.fromarray(rng.integers(0, 256, (32, 30, 3), dtype=np.uint8))
    item = PromptItem(0, "s0", "what is it?", full, crop, None, "relative")
    processor = SizeRecordingProcessor(base.processor)
    teacher = Teacher(base.model, processor, False, "external")
    x, o1, _ = _tokens(student.tokenizer)
    rollout = ScriptedRollout([[x, o1], [o1, o1], [x, x], [o1, x]], 4, student.tokenizer.eos_token_id)
    result = gated_step(
        [item],
        student=student,
        teacher=teacher,
        rollout_backend=rollout,
        templates=PromptTemplates(),
        config=_config(tiny_vlm, data={"negative": "relative"}, step_inputs="per_row"),
        seed=0,
    )
    positive, negative = processor.calls  # 4 rows each, one forward (replay_batch_size 8)
    assert positive == [full, crop] * 4
    assert [im.size for im in negative] == [(48, 32), (15, 16)] * 4
    expected = [
        full.resize((48, 32), Image.Resampling.BICUBIC),
        crop.resize((15, 16), Image.Resampling.BICUBIC),
    ]
    assert all(
        np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(negative, expected * 4, strict=True)
    )
    assert result.l_minus is not None and not torch.equal(result.l_minus, result.l_plus)


@pytest.mark.parametrize("inputs", ["per_row", "shared"])
def test_a_student_view_goes_to_the_student_and_the_clean_image_to_the_teacher(models, tiny_vlm, inputs):
    """The asymmetric-view family: with ``student_view`` set, the rollout, the old log-probs and the
    update see it; both teacher replays see the clean full image (and their crop)."""
    student, base = models
    rng = np.random.default_rng(1)
    clean = Image.fromarray(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8))
    degraded = clean.resize((48, 32)).resize((96, 64))
    crop = Image.fromarray(rng.integers(0, 256, (32, 30, 3), dtype=np.uint8))
    item = PromptItem(0, "s0", "what is it?", clean, crop, crop.copy(), "test", student_view=degraded)
    student_calls = SizeRecordingProcessor(student.processor)
    teacher_calls = SizeRecordingProcessor(base.processor)
    from dataclasses import replace

    x, o1, _ = _tokens(student.tokenizer)
    rollout = ScriptedRollout([[x, o1], [o1, o1], [x, x], [o1, x]], 4, student.tokenizer.eos_token_id)
    result = gated_step(
        [item],
        student=replace(student, processor=student_calls),
        teacher=Teacher(base.model, teacher_calls, False, "external"),
        rollout_backend=rollout,
        templates=PromptTemplates(),
        config=_config(tiny_vlm, step_inputs=inputs),
        seed=0,
    )
    student_images = [im for call in student_calls.calls for im in call]
    teacher_images = [im for call in teacher_calls.calls for im in call]
    assert student_images and all(im is degraded for im in student_images)
    assert clean in teacher_images and degraded not in teacher_images
    assert result.images == [[degraded]] * 4  # what the update encodes
