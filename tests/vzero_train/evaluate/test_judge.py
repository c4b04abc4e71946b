import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from PIL import Image

from vzero_data.benchmarks.items import EvalItem
from vzero_train.evaluate.judge import JudgeError, OpenAICompatibleJudge


@pytest.fixture
def server():
    """A local OpenAI-compatible endpoint answering with ``replies`` in turn and recording requests."""
    state = {"replies": [], "requests": [], "headers": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state["requests"].append((self.path, body))
            state["headers"].append(dict(self.headers))
            reply = state["replies"].pop(0)
            payload = json.dumps(
                reply if isinstance(reply, dict) else {"choices": [{"message": {"content": reply}}]}
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload.encode())

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield state
    httpd.shutdown()
    httpd.server_close()


ITEM = EvalItem(
    "q1", "b", "What colour is the car?", "B", lambda: Image.new("RGB", (4, 4)), ("blue", "red", "green")
)
OPEN = EvalItem("q2", "b", "What animal?", "dog", lambda: Image.new("RGB", (4, 4)))


@pytest.mark.parametrize(
    "reply, expected", [("B", "B"), ("(C)", "C"), ("none", None), ("I don't know", None), ("red", "B")]
)
def test_choose_reads_the_judges_letter(server, reply, expected):
    server["replies"].append(reply)
    judge = OpenAICompatibleJudge(server["url"], "judge-model", api_key="k")
    assert judge.choose(ITEM, "the second colour") == expected
    path, body = server["requests"][0]
    assert path == "/v1/chat/completions"
    assert body["model"] == "judge-model" and body["temperature"] == 0
    prompt = body["messages"][0]["content"]
    assert "(B) red" in prompt and "the second colour" in prompt
    assert server["headers"][0]["Authorization"] == "Bearer k"


@pytest.mark.parametrize("reply, expected", [("Yes.", True), ("no", False), ("maybe", None), ("", None)])
def test_agrees_reads_yes_or_no(server, reply, expected):
    server["replies"].append(reply)
    assert OpenAICompatibleJudge(server["url"], "m").agrees(OPEN, "a puppy") is expected


def test_malformed_reply_is_a_clear_error(server):
    server["replies"].append({"unexpected": True})
    with pytest.raises(JudgeError, match=r"answered without choices\[0\]\.message\.content"):
        OpenAICompatibleJudge(server["url"], "m").complete("hi")


def test_unreachable_endpoint_fails_after_retries(monkeypatch):
    monkeypatch.setattr("vzero_train.evaluate.judge.time.sleep", lambda s: None)
    judge = OpenAICompatibleJudge("http://127.0.0.1:9", "m", retries=2, timeout_s=2)
    with pytest.raises(JudgeError, match="failed 2 times"):
        judge.complete("hi")
