"""The window managers' fragment and the per-window commands (psot.window_colours, issue 21): the console's
palette, one rule per machine of an enabled domain under its instance name, and the infra's text kept as text in
pango markup and in the WM's quoted strings."""

from __future__ import annotations

import pytest

from anklume_tui.psot.constants import TRUST_COLOURS
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from anklume_tui.psot.window_colours import WindowRule, pango_text, render_config, window_rules, wm_string

INFRA = """\
project_name: desk
global:
  base_subnet: "10.142"
domains:
  work:
    subnet_id: 1
    trust_level: trusted
    description: "</span><span background='#5f0000'> [lab] %title \\" & \\\\"
    machines:
      work-dev: {ip: 10.142.1.10}
      work-aux: {ip: 10.142.1.11}
  lab:
    subnet_id: 2
    trust_level: untrusted
    machines:
      lab-box: {ip: 10.142.2.10}
  spare:
    subnet_id: 3
    machines:
      spare-box: {ip: 10.142.3.10}
  idle:
    subnet_id: 4
    enabled: false
    machines:
      idle-box: {ip: 10.142.4.10}
"""


def infra(tmp_path, context: HostContext | None = None):
    path = tmp_path / "infra.yml"
    path.write_text(INFRA, encoding="utf-8")
    result = run_psot(path, context or HostContext())
    assert [f.render() for f in result.findings if f.severity.value == "error"] == []
    return result.infra


def test_each_machine_of_an_enabled_domain_gets_its_domains_console_colour(tmp_path):
    rules = window_rules(infra(tmp_path))
    assert [(r.project, r.instance, r.domain, r.trust, r.colour) for r in rules] == [
        ("work", "work-aux", "work", "trusted", TRUST_COLOURS["trusted"][1]),
        ("work", "work-dev", "work", "trusted", TRUST_COLOURS["trusted"][1]),
        ("lab", "lab-box", "lab", "untrusted", TRUST_COLOURS["untrusted"][1]),
        ("spare", "spare-box", "spare", "semi-trusted", TRUST_COLOURS["semi-trusted"][1]),  # undeclared: semi-trusted
    ]
    assert rules[2].command == (
        "title_format \"<span background='#5f0000' foreground='#ffffff'> [lab] %title </span>\""
    )


def test_windows_are_known_by_project_and_instance_the_nesting_prefix_included(tmp_path):
    nested = infra(tmp_path, HostContext(absolute_level=1))
    assert [(r.project, r.instance) for r in window_rules(nested)][:2] == [
        ("001-work", "001-work-aux"),
        ("001-work", "001-work-dev"),
    ]


@pytest.mark.parametrize("wm", ["i3", "sway"])
def test_the_fragment_sets_a_pango_font_and_starts_the_marker(tmp_path, wm):
    text = render_config(infra(tmp_path), wm, marker_command="anklume-tui --batch window-colours --watch")
    lines = text.splitlines()
    assert "font pango:monospace 10" in lines
    assert lines[-1] == "exec anklume-tui --batch window-colours --watch"
    assert (lines[0] == "# i3 config file (v4)") is (wm == "i3")
    assert "span" not in text and "description" not in text  # the infra's text never reaches the config


def test_the_infras_text_stays_text_in_markup_and_in_the_wms_strings():
    hostile = "</span><span background='#005f00'> %title \" \\ & \n;exec rm"
    rule = WindowRule("box", "box", hostile, "box", "untrusted", "#5f0000")
    quoted = rule.command.removeprefix("title_format ")
    # one quoted argument: every quote and backslash inside escaped, no line break to end the command
    assert quoted.startswith('"') and quoted.endswith('"') and "\n" not in quoted
    inner = quoted[1:-1].replace('\\"', "").replace("\\\\", "")
    assert '"' not in inner and "\\" not in inner
    # in the markup: no tag, quote or placeholder of the infra's text survives, only entities
    markup = pango_text(hostile)
    assert not any(c in markup for c in "<>'\"%")
    assert markup.startswith("&lt;/span&gt;&lt;span background=&apos;#005f00&apos;&gt; &#37;title &quot;")
    assert rule.command.count("<span") == 1 and rule.command.count("</span>") == 1
    assert wm_string('a"b\\c') == '"a\\"b\\\\c"'


def test_an_unknown_window_manager_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown window manager 'kwin'"):
        render_config(infra(tmp_path), "kwin")
