"""Scoring candidate answers under every context gives, per context, exactly the log-probs of a plain
full forward of that context's prompt followed by the candidate, in every supported family."""

import numpy as np
import pytest
import torch
from PIL import Image

from vzero_core.tiny_models import VLM_FAMILIES
from vzero_core.vlm.models import load_vlm
from vzero_core.vlm.option_scoring import (
    CROP_ONLY,
    FULL_IMAGE,
    POSITIVE,
    TEXT_ONLY,
    ScoringItem,
    answer_token_ids,
    score_candidates,
    text_only_template,
)
from vzero_core.vlm.prompts import PromptTemplates, build_messages, render_prompt
from vzero_core.vlm.replay import replay_logprobs, response_logprobs


@pytest.mark.parametrize(
    "template, expected",
    [
        ("<image>\n{question}", "{question}"),
        ("Look: <image> {question}", "Look:  {question}"),
        ("<image>", "{question}"),
    ],
)
def test_text_only_template_drops_the_image(template, expected):
    assert text_only_template(template) == expected


def _items():
    rng = np.random.default_rng(0)

    def image(h, w):
        return Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))

    return [
        ScoringItem(
            "What colour is the small triangle?\n(A) red\n(B) green",
            image(112, 112),
            image(48, 48),
            {"masked": image(48, 48), "distractor": image(56, 40)},
            ("red", "dark green"),
        ),
        ScoringItem(
            "Where?",
            image(96, 80),
            image(64, 32),
            {"masked": image(64, 32), "distractor": image(24, 24)},
            ("left",),
        ),
    ]


def _plain(vlm, template, question, images, candidates, system=None):
    """Summed log-probs of each candidate after one fully rendered prompt, by plain forwards."""
    prompt = render_prompt(vlm.tokenizer, build_messages(template, question, system))
    ids, mask = answer_token_ids(vlm.tokenizer, list(candidates))
    if images:
        lp = replay_logprobs(
            vlm.model,
            vlm.processor,
            [prompt] * len(candidates),
            [images] * len(candidates),
            ids,
            nested_images=vlm.nested_images,
        )
    else:
        enc = vlm.processor(text=[prompt] * len(candidates), padding=True, return_tensors="pt")
        with torch.no_grad():
            lp = response_logprobs(vlm.model, dict(enc), ids)
    return (lp * mask).sum(1)


@pytest.mark.parametrize("family", VLM_FAMILIES)
def test_every_context_equals_a_plain_forward(tiny_vlm, family):
    vlm = load_vlm(tiny_vlm(family, "teacher"), device="cpu")
    templates = PromptTemplates(system="Look closely.")
    items = _items()
    got = score_candidates(vlm, items, templates=templates, micro_batch_size=3)
    for item, scores in zip(items, got, strict=True):
        assert set(scores.token_logprobs) == {
            POSITIVE,
            "masked",
            "distractor",
            FULL_IMAGE,
            CROP_ONLY,
            TEXT_ONLY,
        }
        expected = {
            POSITIVE: (templates.teacher, [item.image, item.crop]),
            **{n: (templates.teacher, [item.image, v]) for n, v in item.negatives.items()},
            FULL_IMAGE: (templates.student, [item.image]),
            CROP_ONLY: (templates.student, [item.crop]),
            TEXT_ONLY: (text_only_template(templates.student), []),
        }
        for context, (template, images) in expected.items():
            want = _plain(vlm, template, item.question, images, item.candidates, templates.system)
            torch.testing.assert_close(
                scores.totals(context), want, atol=1e-4, rtol=0, msg=f"{family} {context}"
            )
    assert not torch.allclose(got[0].totals(POSITIVE), got[0].totals("masked")), "the views must matter"


def test_items_with_different_negatives_are_scored_apart(tiny_vlm):
    vlm = load_vlm(tiny_vlm("qwen2_5_vl", "teacher"), device="cpu")
    a, b = _items()
    b = ScoringItem(b.question, b.image, b.crop, {"masked": b.negatives["masked"]}, b.candidates)
    together = score_candidates(vlm, [a, b], contexts=())
    alone = score_candidates(vlm, [b], contexts=())[0]
    assert set(together[1].token_logprobs) == {POSITIVE, "masked"}
    for context in alone.token_logprobs:
        torch.testing.assert_close(together[1].totals(context), alone.totals(context), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", [POSITIVE, FULL_IMAGE, TEXT_ONLY])
def test_a_negative_may_not_take_a_context_name(tiny_vlm, name):
    vlm = load_vlm(tiny_vlm("qwen2_5_vl", "teacher"), device="cpu")
    item = _items()[0]
    bad = ScoringItem(item.question, item.image, item.crop, {name: item.crop}, item.candidates)
    with pytest.raises(ValueError, match=f"may not be named '{name}'"):
        score_candidates(vlm, [bad])
