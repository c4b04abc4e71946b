"""An optional judge model behind an OpenAI-compatible chat endpoint (off by default).

The judge only decides what the rules in :mod:`vzero_train.evaluate.answers` cannot: which option an
unparseable multiple-choice response meant, and whether an open answer that is not an exact match
says the same as the reference. Any server speaking ``POST {base_url}/chat/completions`` works
(vLLM, llama.cpp, SGLang, OpenAI). Requests go through ``urllib``: no client library needed.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from typing import Any, Protocol

from vzero_data.benchmarks.items import LETTERS, EvalItem
from vzero_train.evaluate.answers import extract_choice

logger = logging.getLogger(__name__)

NO_CHOICE = "none"


class JudgeError(RuntimeError):
    """The judge endpoint failed or answered in an unexpected shape."""


class Judge(Protocol):
    def choose(self, item: EvalItem, response: str) -> str | None:
        """The option letter ``response`` chose, or ``None`` if it chose none."""

    def agrees(self, item: EvalItem, response: str) -> bool | None:
        """Whether ``response`` gives the reference answer; ``None`` if the judge cannot tell."""


def choose_prompt(item: EvalItem, response: str) -> str:
    options = "\n".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(item.options))
    return (
        "A model answered a multiple-choice question. Decide which option its response chooses.\n"
        f"Question: {item.question}\nOptions:\n{options}\nResponse: {response}\n"
        f"Reply with the option letter only, or '{NO_CHOICE}' if the response chooses no option "
        "or more than one."
    )


def agrees_prompt(item: EvalItem, response: str) -> str:
    return (
        "Does the response give the same answer as the reference answer?\n"
        f"Question: {item.question}\nReference answer: {item.answer}\nResponse: {response}\n"
        "Reply with 'yes' or 'no' only."
    )


class OpenAICompatibleJudge:
    """A judge calling ``{base_url}/chat/completions`` with greedy decoding.

    ``api_key`` defaults to the environment variable named by ``api_key_env`` (none is sent when
    unset, which local servers accept).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 60.0,
        retries: int = 3,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key if api_key is not None else os.environ.get(api_key_env)
        self.timeout_s = timeout_s
        self.retries = max(1, retries)

    def complete(self, prompt: str) -> str:
        """The judge's reply text to one user message."""
        body = json.dumps(
            {
                "model": self.model,
                "messages": [{"role": "user", "content": prompt}],
                "temperature": 0,
                "max_tokens": 16,
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last_error: Exception | None = None
        for attempt in range(self.retries):
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                    payload: dict[str, Any] = json.load(reply)
                return str(payload["choices"][0]["message"]["content"] or "")
            except (KeyError, IndexError, TypeError, json.JSONDecodeError) as exc:
                raise JudgeError(f"judge at {self.url} answered without choices[0].message.content") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last_error = exc
                logger.warning(
                    "judge request %d/%d to %s failed: %s", attempt + 1, self.retries, self.url, exc
                )
                time.sleep(min(2**attempt, 10))
        raise JudgeError(f"judge at {self.url} failed {self.retries} times: {last_error}")

    def choose(self, item: EvalItem, response: str) -> str | None:
        reply = self.complete(choose_prompt(item, response)).strip()
        if reply.lower().strip(" .'\"") == NO_CHOICE:
            return None
        return extract_choice(reply, item.options)

    def agrees(self, item: EvalItem, response: str) -> bool | None:
        words = self.complete(agrees_prompt(item, response)).strip().lower().split()
        first = words[0].strip(".,!'\"") if words else ""
        return {"yes": True, "no": False}.get(first)
