"""What a container prints reaches the user's terminal without its escape sequences and control characters
(cursor moves, a new window title, the bell), whether through provisioning's progress lines or an error."""

from __future__ import annotations

from anklume_tui.engine.provision.events import ProvisionEvent, event_of
from anklume_tui.printable import printable

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m\tdone\x08\x9b1A\rend\x00"


def test_escape_sequences_and_control_characters_are_stripped_but_newline_and_tab_kept():
    assert printable(HOSTILE) == "red\tdoneend"
    assert printable("line one\nline two\tcafé ✓") == "line one\nline two\tcafé ✓"


def test_a_failed_task_s_stderr_reaches_the_progress_line_without_its_escape_sequences():
    last_line = HOSTILE.replace("\r", "")  # Ansible's message takes the last line of stderr
    res = {"msg": "non-zero return code", "stderr": f"warming up\n{last_line}", "rc": 1}
    event = event_of({"event": "runner_on_failed", "event_data": {"host": "web-1", "task": "Build", "res": res}})
    assert event.message == "non-zero return code: red doneend"
    assert event.line() == "failed      web-1: Build: non-zero return code: red doneend"


def test_a_note_or_play_line_carrying_escape_sequences_is_printable():
    assert ProvisionEvent("note", message=f"ansible said {HOSTILE}").line() == "ansible said red\tdoneend"
    assert ProvisionEvent("play", task="\x1b[1mweb\x1b[0m").line() == "play web"
