"""Output that comes from a container (a command's stdout and stderr, Ansible's report of a task) made safe to
show on a terminal: no escape sequence or control character of it reaches the user's terminal, where it could
move the cursor, retitle the window, ring the bell or rewrite what was printed before."""

from __future__ import annotations

import re

# ANSI/ECMA-48 sequences (CSI, OSC and the other string commands, two-byte escapes), in their 7-bit and
# 8-bit forms, then any C0 or C1 control left over, except newline and tab.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def printable(text: str) -> str:
    """`text` without ANSI escape sequences and without control characters other than newline and tab."""
    return _ESCAPES.sub("", text)
