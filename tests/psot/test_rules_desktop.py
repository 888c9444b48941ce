"""Desktop keys (issue 21): DK1-DK4 fail on their node and pass once fixed, DK5-DK6 warn; the display relays
enrichment gives a domain's containers; the clipboard rule's verdicts (CB1-CB3)."""

from __future__ import annotations

import pytest

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.desktop import clipboard_side, clipboard_verdict
from anklume_tui.psot.pipeline import run_psot

from .psot_helpers import assert_flags, infra, rule_case_tests

DISPLAY = "desktop: {x11: ':0', wayland: wayland-0}"


def domains(
    work_desktop: str = "{display: true}", lab_desktop: str = "{display: true, x11: ':1', wayland: wayland-1}"
) -> str:
    return (
        f"work:\n  subnet_id: 1\n  trust_level: trusted\n  desktop: {work_desktop}\n"
        "  machines:\n    work-dev: {ip: 10.100.1.10}\n"
        f"lab:\n  subnet_id: 2\n  trust_level: untrusted\n  desktop: {lab_desktop}\n"
        "  machines:\n    lab-box: {ip: 10.100.2.10}\n"
    )


CASES = [
    ("DK1", infra("desktop: {x11: screen0}  # <-", domains()), ("screen0", "':0'")),
    ("DK1", infra("desktop: {wayland: ../wl}  # <-", domains()), ("../wl", "wayland-0")),
    ("DK1", infra("desktop: {x11: 0, runtime_dir: run/me}  # <-", domains()), ("run/me", "/run/me")),
    ("DK1", infra("desktop: {x11: 0, uid: me}  # <-", domains()), ("uid: me", "uid: 1000")),
    ("DK2", infra(DISPLAY, domains("{display: yes please}  # <-")), ("yes please", "true")),
    (
        "DK2",
        infra(DISPLAY, domains("{display: true, clipboard: {paste_from: lab}}  # <-")),
        ("paste_from: lab}", "paste_from: [lab]}"),
    ),
    ("DK2", infra(DISPLAY, domains("{display: true, clipboard: {copy: 0}}  # <-")), ("copy: 0", "copy: false")),
    ("DK3", infra(domains=domains("{display: true}  # <-")), ("{display: true}  #", "{display: true, x11: 2}  #")),
    (
        "DK4",
        infra(DISPLAY, domains("{display: true, clipboard: {paste_from: [lab, nowhere]}}  # <-")),
        ("lab, nowhere", "lab"),
    ),
    (
        "DK4",
        infra(DISPLAY, domains("{display: true, clipboard: {paste_from: [work]}}  # <-")),
        ("[work]", "[lab]"),
    ),
]

test_rule_reports_an_error_on_the_offending_node, test_near_identical_valid_infra_passes_the_rule = rule_case_tests(
    CASES
)

WARNING_CASES = [
    (
        "DK5",
        infra(DISPLAY, domains(lab_desktop="{display: true}  # <-")),
        ("{display: true}  #", "{display: true, x11: 1, wayland: wayland-1}  #"),
    ),
    (
        "DK6",
        infra(DISPLAY, domains().replace("lab-box: {ip: 10.100.2.10}", "lab-box: {ip: 10.100.2.10, type: vm}  # <-")),
        (", type: vm", ""),
    ),
]


def all_findings(tmp_path, text):
    path = tmp_path / "infra.yml"
    path.write_text(text, encoding="utf-8")
    return run_psot(path, HostContext())


@pytest.mark.parametrize(("rule", "text", "fix"), WARNING_CASES, ids=[c[0] for c in WARNING_CASES])
def test_desktop_warning_is_reported_on_the_offending_node(tmp_path, rule, text, fix):
    result = all_findings(tmp_path, text)
    assert_flags(result.findings, rule, "warning", text)
    fixed = all_findings(tmp_path, text.replace(*fix))
    assert [f.render() for f in fixed.findings] == []


def test_display_relays_and_environment_go_to_each_container_of_a_display_domain(tmp_path):
    text = infra(
        "desktop: {x11: ':0', wayland: wayland-0, runtime_dir: /run/user/1000}",
        domains("{display: true}", "{display: false}").replace(
            "work-dev: {ip: 10.100.1.10}", "work-dev: {ip: 10.100.1.10, config: {environment.DISPLAY: ':9'}}"
        ),
    )
    result = all_findings(tmp_path, text)
    assert [f.render() for f in result.findings] == []
    machines = {m.name: m for m in result.infra.machines}
    assert machines["work-dev"].devices == {
        "dsp-x11": {
            "type": "proxy",
            "bind": "instance",
            "listen": "unix:@/tmp/.X11-unix/X0",
            "connect": "unix:/tmp/.X11-unix/X0",
        },
        "dsp-wayland": {
            "type": "proxy",
            "bind": "instance",
            "listen": "unix:/run/anklume-wayland",
            "connect": "unix:/run/user/1000/wayland-0",
            "mode": "0666",
        },
    }
    # the user's own config key wins over the generated one
    assert machines["work-dev"].config == {
        "environment.DISPLAY": ":9",
        "environment.WAYLAND_DISPLAY": "/run/anklume-wayland",
    }
    assert machines["lab-box"].devices is None and machines["lab-box"].config is None
    with_uid = all_findings(tmp_path, text.replace("runtime_dir: /run/user/1000", "uid: 1000"))
    devices = {m.name: m for m in with_uid.infra.machines}["work-dev"].devices
    assert {(d["security.uid"], d["security.gid"]) for d in devices.values()} == {("1000", "1000")}


def side(name, trust, **clipboard):
    desktop = {"clipboard": clipboard} if clipboard else {}
    return clipboard_side(name, {"trust_level": trust, "desktop": desktop})


@pytest.mark.parametrize(
    ("source", "target", "rule"),
    [
        (side("work", "trusted"), side("lab", "untrusted"), None),  # down the trust levels
        (side("lab", "untrusted"), side("work", "trusted"), "CB3"),  # up: refused unless listed
        (side("lab", "untrusted"), side("work", "trusted", paste_from=["lab"]), None),
        (side("a", "semi-trusted"), side("b", "semi-trusted"), None),
        (side("work", "trusted", copy=False), side("lab", "untrusted"), "CB1"),
        (side("work", "trusted"), side("lab", "untrusted", paste=False), "CB2"),
        (side("lab", "untrusted", copy=False), side("lab", "untrusted"), None),  # within one domain
    ],
)
def test_clipboard_verdict_follows_trust_and_the_infra(source, target, rule):
    verdict = clipboard_verdict(source, target)
    assert verdict.rule == rule and verdict.allowed is (rule is None), verdict
