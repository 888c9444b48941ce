"""A container's output printed by the CLI (`disp -- CMD`) reaches a terminal without its escape sequences and
control characters; a pipe still gets the command's standard output byte for byte."""

from __future__ import annotations

import pytest

from tests.engine.apply_helpers import batch
from tests.engine.lifecycle_helpers import applied

pytestmark = pytest.mark.incus

SCRIPT = r"printf '\033]0;owned\007\033[2J\033[31mred\033[0m\tdone\n' >&2; printf 'out\033[1m\n'"


def test_a_disposable_s_stderr_reaches_the_terminal_without_escape_sequences(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    result = batch(incusd, tmp_path, "disp", infra, "--", "sh", "-c", SCRIPT)
    assert result.returncode == 0, result.stderr
    assert "red\tdone\n" in result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert result.stdout == "out\x1b[1m\n"  # a pipe, not a terminal: the output as the command wrote it
