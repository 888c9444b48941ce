"""collect-logs' redaction reads what machines log, so a machine decides its lines: a long line (a megabyte run
of word characters with no secret name in it, then a secret) is redacted in time linear in its length, as short
ones are. The previous pattern took 150 s for 40 KB of such a run; here 1 MB must take seconds."""

from __future__ import annotations

import subprocess
import sys

from anklume_tui.engine.logs import Redactor

LONG_LINE = """
from anklume_tui.engine.logs import Redactor
r = Redactor()
line = r.line("a" * 1_000_000 + " then password=hunter2 " + 'token="' + "b " * 200_000)
assert "hunter2" not in line and line.count("[REDACTED]") == 2, line[-80:]
"""


def test_a_megabyte_line_is_redacted_in_seconds():
    done = subprocess.run([sys.executable, "-c", LONG_LINE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_secret_values_are_redacted_and_the_rest_kept():
    redactor = Redactor()
    lines = [
        "app: started with password=hunter2 and user=alice\n",
        'app: {"api_key": "sk-live-123", "mode": "fast"}\n',
        "MY_DB_PASSWORD: 'a b'; access-key=abc,x\n",
        "no secret here: passwords are hashed\n",
    ]
    assert [redactor.line(line) for line in lines] == [
        "app: started with password=[REDACTED] and user=alice\n",
        'app: {"api_key": [REDACTED], "mode": "fast"}\n',
        "MY_DB_PASSWORD: [REDACTED]; access-key=[REDACTED],x\n",
        "no secret here: passwords are hashed\n",
    ]
    assert redactor.count == 4
