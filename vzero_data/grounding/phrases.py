"""The phrase a grounder looks for: the sample's target, or a short noun phrase from the question.

Detectors degrade on long prompts ("What is the color of the umbrella held by the woman on the
left? (A) red (B) blue ..."), so questions are reduced to the object they ask about ("umbrella").
:class:`RuleBasedExtractor` does that with patterns for the usual benchmark question shapes;
:class:`VLMPhraseExtractor` asks a language model instead. Both satisfy :class:`PhraseExtractor`,
any callable ``question -> phrase`` does too. Several objects (relative-position questions) come
back joined by ``". "``, the separator Grounding DINO uses between phrases.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from vzero_core.sample import Sample

MAX_PHRASE_WORDS = 6

_ATTRIBUTES = (
    r"colou?rs?|shape|material|size|brand|logo|number|numbers|text|word|words|name|type|kind|pattern|"
    r"style|position|location|shade|letter|letters|digits?|price|time|title|label|design|model|make|"
    r"breed|species|age|gender|expression|emotion|activity|direction|condition|flavou?r|content|state"
)
_DET = r"(?:(?:the|a|an|this|that|these|those|any)\s+)?"
_SHOWN = r"(?:written|shown|displayed|printed|painted|depicted|visible)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), kind)
    for p, kind in (
        # "What is written on the sign?", "What animal is shown on the poster?"
        (r"\bwhat\s+(?:\w+\s+)?(?:is|are)\s+" + _SHOWN + r"\s+(?:on|in)\s+" + _DET + r"(?P<a>[^?]+)", "one"),
        # "Is the red car on the left or right side of the white truck?"
        (
            r"\b(?:is|are)\s+" + _DET + r"(?P<a>.+?)\s+(?:on|to|at)\s+the\s+(?:left|right)\b.*?\b"
            r"(?:of|from)\s+" + _DET + r"(?P<b>[^?.,]+)",
            "pair",
        ),
        (
            r"\b(?:what|which)\s+(?:" + _ATTRIBUTES + r")\s+(?:is|are|does|do)\s+" + _DET + r"(?P<a>[^?.]+)",
            "one",
        ),
        (
            r"\bthe\s+(?:\w+\s+){0,2}?(?:"
            + _ATTRIBUTES
            + r")\s+(?:"
            + _SHOWN
            + r"\s+)?(?:of|on|for|in)\s+"
            + _DET
            + r"(?P<a>[^?.]+)",
            "one",
        ),
        (
            r"\b(?:is|are)\s+"
            + _DET
            + r"(?P<a>.+?)\s+(?:above|below|behind|in front of|under|over)\s+"
            + _DET
            + r"(?P<b>[^?.,]+?)\s*(?:\bor\b|\?|$)",
            "pair",
        ),
        (r"\bwhat\s+does\s+" + _DET + r"(?P<a>.+?)\s+(?:say|read|show|display)\b", "one"),
        (r"\bhow\s+many\s+(?P<a>[^?]+?)\s+(?:are|is|can|do|does)\b", "one"),
        (r"\bwhere\s+(?:is|are)\s+" + _DET + r"(?P<a>[^?]+)", "one"),
        (r"\b(?:is|are)\s+there\s+" + _DET + r"(?P<a>[^?]+)", "one"),
        (r"\bwhat\s+is\s+" + _DET + r"(?P<a>.+?)\s+(?:holding|wearing|doing|carrying|made of)\b", "one"),
        (r"\bwhat\s+(?:is|are)\s+the\s+(?P<a>[^?]+)", "one"),
    )
)
# A phrase ends where a clause or a location phrase starts: detectors want the object, not its story.
_CUT = re.compile(
    r"\s+(?:that|which|who|whose|where|when|while|near|located|positioned|situated|shown|visible|"
    r"held|worn|parked|standing|sitting|lying|hanging|placed|next to|beside|compared|"
    r"(?:on|at|in|from|under|above|below|behind|by|inside|over)\s+(?:the|a|an|this|its|his|her|their)\b"
    r"|above|below|behind|under)\b.*$",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^(?:(?:the|a|an|this|that|these|those|any|some|of)\s+)+", re.IGNORECASE)
_OPTIONS = re.compile(
    r"\s*(?:\n|\(A\)|A\.\s|Options?:|Choices?:|Answer with|Please answer|Select).*$", re.DOTALL
)
_STOPWORDS = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "where",
        "when",
        "why",
        "how",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "should",
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "this",
        "that",
        "these",
        "those",
        "there",
        "it",
        "its",
        "image",
        "picture",
        "photo",
        "shown",
        "please",
        "answer",
        "question",
        "option",
        "options",
        "following",
        "be",
        "been",
        "being",
    ]
)


@runtime_checkable
class PhraseExtractor(Protocol):
    """Anything that turns a question into a short phrase naming what it asks about."""

    def __call__(self, question: str) -> str: ...


def _clean(phrase: str) -> str:
    phrase = _CUT.sub("", phrase.strip())
    phrase = _LEADING.sub("", phrase.strip(" \t\n.,;:!?\"'"))
    words = phrase.split()
    return " ".join(words[:MAX_PHRASE_WORDS])


def question_stem(question: str) -> str:
    """The question without its options and answer instructions, on one line."""
    stem = _OPTIONS.sub("", question.strip())
    return " ".join((stem or question).split())


class RuleBasedExtractor:
    """Pattern-based noun-phrase extraction for common benchmark question shapes (no model needed).

    Falls back to the question's first content words when no pattern matches.
    """

    def __call__(self, question: str) -> str:
        stem = question_stem(question)
        for pattern, kind in _PATTERNS:
            match = pattern.search(stem)
            if not match:
                continue
            first = _clean(match.group("a"))
            if kind == "pair":
                second = _clean(match.group("b"))
                if first and second:
                    return f"{first}. {second}"
            elif first:
                return first
        words = [w for w in re.findall(r"[\w'-]+", stem) if w.lower() not in _STOPWORDS]
        return " ".join(words[:MAX_PHRASE_WORDS]) or stem


VLM_EXTRACTION_PROMPT = (
    "Name the object this question asks about, in at most {max_words} words. Reply with the object only.\n"
    "Question: {question}"
)


class VLMPhraseExtractor:
    """Ask a (vision-)language model for the question's object; text only, greedy, a few tokens.

    Its answer is cleaned like a rule-based one; an empty or over-long answer falls back to
    ``fallback`` (the rule-based extractor by default), so a confused model never yields a prompt
    longer than the rule would.
    """

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        max_new_tokens: int = 12,
        fallback: Callable[[str], str] | None = None,
    ) -> None:
        from transformers import AutoModelForImageTextToText

        from vzero_core.hf_loading import load_processor, resolve_device, resolve_dtype

        self.model_name = model
        self.max_new_tokens = max_new_tokens
        self.fallback = fallback or RuleBasedExtractor()
        self._device = resolve_device(device)
        self.processor = load_processor(model)
        self.model = AutoModelForImageTextToText.from_pretrained(
            model, dtype=resolve_dtype(dtype, self._device)
        ).to(self._device)
        self.model.eval()

    def __call__(self, question: str) -> str:
        import torch

        tokenizer = self.processor.tokenizer
        content = VLM_EXTRACTION_PROMPT.format(max_words=MAX_PHRASE_WORDS, question=question_stem(question))
        messages = [{"role": "user", "content": [{"type": "text", "text": content}]}]
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        inputs = tokenizer([prompt], return_tensors="pt").to(self._device)
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        answer = tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        return self.clean_answer(answer) or self.fallback(question)

    @staticmethod
    def clean_answer(answer: str) -> str:
        """The model's answer reduced to a phrase, or "" when it is unusable."""
        line = answer.strip().splitlines()[0] if answer.strip() else ""
        line = re.sub(r"^(?:the object is|object|answer)\s*:?\s*", "", line, flags=re.IGNORECASE)
        words = re.findall(r"[A-Za-z][\w'-]*", line)
        if not words or len(words) > MAX_PHRASE_WORDS:
            return ""
        return _clean(" ".join(words))


def split_phrases(phrase: str) -> list[str]:
    """The objects in a ``". "``-joined phrase, whitespace-normalized: ``"cat. a dog."`` -> ``["cat", "a dog"]``."""
    parts = [" ".join(p.split()) for p in phrase.split(".")]
    parts = [p for p in parts if p]
    if not parts:
        raise ValueError(f"phrase {phrase!r} has no words")
    return parts


def extract_phrase(sample: Sample, extractor: PhraseExtractor | Callable[[str], str] | None = None) -> str:
    """The phrase to ground for ``sample``: its target when present, else one extracted from the question."""
    if sample.target and sample.target.strip():
        return " ".join(sample.target.split())
    phrase = (extractor or RuleBasedExtractor())(sample.question)
    if not phrase or not phrase.strip():
        raise ValueError(f"sample {sample.sample_id}: no phrase could be extracted from {sample.question!r}")
    return phrase.strip()
