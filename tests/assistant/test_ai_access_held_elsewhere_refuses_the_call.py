"""With exclusive AI access the assistant asks only from a domain the ruleset's resolved policies let reach
ai-tools (SPEC §10.5): while ai-switch gave the access to another domain, the call is refused, 0 requests."""

from __future__ import annotations

from tests.assistant.explain_lab_helpers import ANSWER, explain, offline_env, write_failed_run
from tests.assistant.model_standin_helpers import configure, model_standin

EXCLUSIVE = """\
project_name: explainlab
global:
  addressing: {}
  default_os_image: debian
  ai_access_policy: exclusive
  ai_access_default: work
domains:
  work:
    machines:
      work-box:
        roles: [greeter]
  pro:
    machines:
      pro-box: {}
  ai-tools:
    machines:
      gpu-server: {}
network_policies:
  - {from: work, to: ai-tools, ports: [11434]}
"""


def test_ai_access_held_by_another_domain_refuses_the_call(tmp_path, monkeypatch, capsys):
    config_home = offline_env(monkeypatch, tmp_path)
    infra = write_failed_run(tmp_path, EXCLUSIVE)
    holder = tmp_path / "state" / "anklume" / "ai-access-current"
    with model_standin() as standin:
        standin.answer = ANSWER
        configure(config_home, standin.config("ollama", domain="work"))

        holder.write_text("pro\n")  # ai-switch pro: only pro reaches ai-tools
        assert explain(infra, "--send") == 4
        said = capsys.readouterr().err
        assert "work may not reach ai-tools (held by pro, set by ai-switch)" in said
        assert "ai-switch work" in said
        assert standin.requests == []

        holder.write_text("work\n")
        assert explain(infra, "--send") == 0
        assert len(standin.requests) == 1


def test_with_exclusive_access_and_no_domain_configured_the_call_is_refused(tmp_path, monkeypatch, capsys):
    config_home = offline_env(monkeypatch, tmp_path)
    infra = write_failed_run(tmp_path, EXCLUSIVE)
    with model_standin() as standin:
        configure(config_home, standin.config("ollama"))
        assert explain(infra, "--send") == 4
        assert "say which domain you ask from" in capsys.readouterr().err
        assert standin.requests == []
