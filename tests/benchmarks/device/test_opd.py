"""The model-FLOPs estimate of one OPD step, by phase, against counts done by hand."""

from __future__ import annotations

import pytest

from benchmarks.device.opd import Params, Tokens, step_flops, update_image_passes

# Student: 10 vision, 100 body, 1000 embedding parameters; teacher: 20, 400, 1000.
STUDENT = Params(vision=10, body=100, embedding=1000)
TEACHER = Params(vision=20, body=400, embedding=1000)
# One prompt: 50 student-prompt tokens, teacher prefix 55, a view 5 tokens; 40 image patches, 8 per view;
# G = 2 rows, 10-token responses, the image through the vision tower once in the update.
TOKENS = Tokens(
    student_prompt=50,
    teacher_prefix=55,
    view=5,
    image_patches=40,
    view_patches=8,
    group=2,
    response=10,
    update_image_passes=1,
)


# language model: 2 * (body * tokens + embedding * logit positions)
#   a student pass over the group: tokens 2 * (50 + 10) = 120, logits 2 * 10 = 20 -> 2 * (12,000 + 20,000) = 64,000
# encode: the student's image once: 2 * 10 * 40 = 800
# replay, gated (2 views): tokens 55 + 2 * 2 * (5 + 10) = 115, logits 2 * 2 * 10 = 40
#   -> 2 * (400 * 115 + 1000 * 40) = 172,000; vision 2 * 20 * (40 + 2 * 8) = 2,240 -> 174,240
#   plain (1 view): tokens 55 + 2 * 15 = 85, logits 20 -> 2 * (34,000 + 20,000) = 108,000; vision 2 * 20 * 48 = 1,920
# update: 3 * (64,000 + 2 * 10 * 1 * 40) = 3 * 64,800 = 194,400
@pytest.mark.parametrize(
    "gated, replay",
    [(True, 174_240), (False, 109_920)],
)
def test_step_flops_by_hand(gated, replay):
    assert step_flops(TOKENS, STUDENT, TEACHER, gated=gated) == {
        "encode": 800,
        "rollout": 64_000,
        "replay": replay,
        "old_logprobs": 64_000,
        "update": 194_400,
    }


@pytest.mark.parametrize(
    "prompts, group, micro_batch, passes",
    [
        (2, 8, 4, 2.0),  # two micro-batches per prompt, one image each
        (4, 8, 8, 1.0),
        (2, 2, 4, 1.0),  # one micro-batch holds both prompts' rows: two images in it
        (1, 8, 3, 3.0),  # rows 0-2, 3-5, 6-7
        (3, 2, 3, 4 / 3),  # rows 0-2 (prompts 0, 1), rows 3-5 (prompts 1, 2)
    ],
)
def test_update_image_passes(prompts, group, micro_batch, passes):
    assert update_image_passes(prompts, group, micro_batch) == pytest.approx(passes)
