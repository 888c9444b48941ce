"""Nothing reaches the model without --send: the stand-in counts 0 requests, and what was shown is exactly the
body it then gets with --send, for each API (both streamed); the answer is printed as data."""

from __future__ import annotations

import json

import pytest

from tests.assistant.explain_lab_helpers import ANSWER, FIX_DIFF, MESSAGE, explain, offline_env, write_failed_run
from tests.assistant.model_standin_helpers import configure, model_standin


@pytest.mark.parametrize("backend", ["ollama", "openai"])
def test_explain_shows_the_request_and_sends_it_only_with_send(backend, tmp_path, monkeypatch, capsys):
    config_home = offline_env(monkeypatch, tmp_path)
    infra = write_failed_run(tmp_path)
    with model_standin() as standin:
        standin.answer = ANSWER
        configure(config_home, standin.config(backend))

        assert explain(infra, "--json") == 0
        shown = json.loads(capsys.readouterr().out)
        assert standin.requests == []
        assert shown["sent"] is False
        prompt = shown["prompt"]
        assert "Task: greeter : Write the greeting" in prompt and MESSAGE in prompt
        assert "infra.yml:8:       work-box:" in prompt  # the machine's lines, with file:line
        assert "File roles_custom/greeter/tasks/main.yml:" in prompt and "/bin/flase" in prompt
        path = "/api/chat" if backend == "ollama" else "/v1/chat/completions"
        assert shown["request"]["url"] == standin.url + path

        assert explain(infra) == 0  # the text form: the body as it would be posted
        text = capsys.readouterr()
        assert json.loads(text.out.split("\n", 1)[1]) == shown["request"]["body"]
        assert "nothing sent: add --send" in text.err
        assert standin.requests == []

        assert explain(infra, "--send") == 0
        sent = capsys.readouterr()
        assert [r["path"] for r in standin.requests] == [path]
        assert standin.requests[0]["body"] == shown["request"]["body"]
        assert standin.requests[0]["body"]["stream"] is True
        assert FIX_DIFF in sent.out and "does not exist" in sent.out
        assert "nothing applied: add --apply" in sent.err
        assert (tmp_path / "roles_custom" / "greeter" / "tasks" / "main.yml").read_text().count("/bin/flase") == 1


def test_explain_without_a_backend_says_how_to_configure_and_refuses_send(tmp_path, monkeypatch, capsys):
    offline_env(monkeypatch, tmp_path)
    infra = write_failed_run(tmp_path)
    assert explain(infra) == 0
    out = capsys.readouterr()
    assert "Task: greeter : Write the greeting" in out.out
    assert "assistant.toml" in out.err and 'backend = "ollama"' in out.err
    assert explain(infra, "--send") == 2
    assert "the assistant is off" in capsys.readouterr().err


def test_the_api_key_is_read_from_its_file_sent_as_a_bearer_and_never_shown(tmp_path, monkeypatch, capsys):
    config_home = offline_env(monkeypatch, tmp_path)
    infra = write_failed_run(tmp_path)
    key = tmp_path / "key"
    key.write_text("sk-local-secret\n")
    with model_standin() as standin:
        standin.answer = ANSWER
        configure(config_home, standin.config("openai", api_key_file=str(key)))
        assert explain(infra) == 0
        shown = capsys.readouterr().out
        assert "Authorization: Bearer <key from api_key_file>" in shown and "sk-local-secret" not in shown
        assert explain(infra, "--send", "--json") == 0
        document = capsys.readouterr().out
        assert "sk-local-secret" not in document and json.loads(document)["sent"] is True
        assert standin.requests[0]["headers"]["Authorization"] == "Bearer sk-local-secret"
