"""Every verb answers `--batch VERB --help` with its own usage (CLI.md), not the top-level help: the top
parser must leave `--help` to the verb's parser, REMAINDER-taking verbs (disp) included."""

from __future__ import annotations

import subprocess
import sys

import pytest

from anklume_tui.cli import VERBS, main
from tests.engine.apply_helpers import ROOT


@pytest.mark.parametrize("verb", sorted(VERBS))
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_each_verb_help_prints_that_verbs_usage(verb, flag, capsys):
    assert main(["--batch", verb, flag]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: anklume-tui --batch {verb} "), out[:200]
    assert VERBS[verb].HELP.split()[0] in out


def test_disp_help_through_the_real_command_and_top_level_help_unchanged():
    disp = [sys.executable, "-m", "anklume_tui", "--batch", "disp", "--help"]
    shown = subprocess.run(disp, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and shown.stdout.startswith("usage: anklume-tui --batch disp "), shown.stdout
    assert "--no-attach" in shown.stdout and "--batch VERB" not in shown.stdout
    top = subprocess.run([sys.executable, "-m", "anklume_tui", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert top.returncode == 0 and top.stdout.startswith("usage: anklume-tui [-h]") and "--batch VERB" in top.stdout
