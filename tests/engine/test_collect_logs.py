"""collect-logs on the throwaway daemon (issue 22): one tar.gz with each machine's syslog and Incus log plus
the apply journal; secret-looking values and PEM blocks redacted and counted; a machine without any syslog
is named (exit 1) while the others' logs are still there; a failing journalctl's message is named without its
escape sequences."""

from __future__ import annotations

import json
import tarfile

from tests.engine.apply_helpers import batch

INFRA = """\
project_name: logs
global:
  addressing: {}
  default_os_image: busybox
domains:
  lab:
    machines:
      lab-talky: {}
      lab-quiet: {}
      lab-odd: {}
"""

SYSLOG = """\
Dec  6 04:00:00 lab-talky app: started with password=hunter2 and user=alice
Dec  6 04:00:01 lab-talky app: {"api_key": "sk-live-123", "mode": "fast"}
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAA
-----END OPENSSH PRIVATE KEY-----
Dec  6 04:00:02 lab-talky app: ready
"""

WRITE_SYSLOG = f"mkdir -p /var/log && cat > /var/log/messages <<'EOF'\n{SYSLOG}EOF"
# A journalctl that fails saying something with escape sequences: the error line keeps the words, not the escapes.
ODD_JOURNALCTL = (
    "printf '#!/bin/sh\\nprintf \"journal broken\\\\033]0;retitled\\\\007\\\\033[2J\" >&2; exit 1\\n' "
    "> /bin/journalctl && chmod +x /bin/journalctl"
)


def test_collect_logs_archives_each_machine_and_the_apply_journal_with_secrets_redacted(incusd, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA)
    try:
        assert batch(incusd, tmp_path, "apply", infra).returncode == 0
        incusd.incus("exec", "lab-talky", "--project=lab", "--", "sh", "-c", WRITE_SYSLOG)
        incusd.incus("exec", "lab-odd", "--project=lab", "--", "sh", "-c", ODD_JOURNALCTL)
        archive = tmp_path / "out.tar.gz"
        done = batch(incusd, tmp_path, "collect-logs", infra, "--out", str(archive), "--json")
        assert done.returncode == 1, done.stderr  # lab-quiet has no syslog: named, not fatal
        report = json.loads(done.stdout)
        by_machine = {m["machine"]: m for m in report["machines"]}
        assert by_machine["lab-talky"]["errors"] == []
        assert any("no journal and no syslog" in e for e in by_machine["lab-quiet"]["errors"]), by_machine
        odd = by_machine["lab-odd"]["errors"]
        assert any("journal: exit 1: journal broken" in e for e in odd), odd
        assert not any("\x1b" in e or "retitled" in e for e in odd), odd
        assert report["redacted"] == 3 and report["host_files"] == ["host/apply-journal.jsonl"]
        with tarfile.open(archive) as tar:
            names = tar.getnames()
            text = tar.extractfile("out/lab-talky/journal.txt").read().decode()
            journal = tar.extractfile("out/host/apply-journal.jsonl").read().decode()
        assert {
            "out/lab-talky/journal.txt",
            "out/lab-talky/incus-info-show-log.txt",
            "out/lab-quiet/incus-info-show-log.txt",
        } <= set(names), names
        assert "hunter2" not in text and "sk-live-123" not in text and "b3BlbnNz" not in text
        assert "password=[REDACTED]" in text and "user=alice" in text and "app: ready" in text
        assert "[REDACTED PEM BLOCK]" in text and '"mode": "fast"' in text
        assert "lab-talky" in journal
    finally:
        batch(incusd, tmp_path, "flush", infra, "--yes")
