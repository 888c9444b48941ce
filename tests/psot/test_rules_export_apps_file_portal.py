"""Rules on export_apps (EA1–EA3) and file_portal (FP1–FP3): each fails on its node and passes once fixed; both
keys are known (no W13 'has no effect' warning any more, W7 for a key unknown inside them)."""

from __future__ import annotations

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.validate import collect_warnings, validate_structure

from .psot_helpers import infra, load_text, rule_case_tests


def domain(extra: str = "", machine: str = "") -> str:
    """Domain `pro` with `extra` domain lines and `machine` lines for its machine `pro-dev`."""
    return infra(domains=f"pro:\n  subnet_id: 1\n{extra}  machines:\n    pro-dev:\n      ip: 10.100.1.10\n{machine}")


def apps(items: str, where: str = "machine") -> str:
    body = "export_apps:\n" + items
    lines = "".join(("      " if where == "machine" else "  ") + line + "\n" for line in body.splitlines())
    return domain(machine=lines) if where == "machine" else domain(extra=lines)


def portal(body: str, machine: str = "") -> str:
    return domain(extra="  file_portal:\n" + "".join(f"    {line}\n" for line in body.splitlines()), machine=machine)


CASES = [
    ("EA1", domain(machine="      export_apps: firefox  # <-\n"), ("export_apps: firefox", "export_apps: [firefox]")),
    ("EA1", apps("  - Firefox  # <-"), ("Firefox", "firefox")),
    ("EA1", apps("  - firefox\n  - 12  # <-"), ("12", "gedit")),
    ("EA1", apps("  - {command: gedit}  # <-"), ("{command: gedit}", "{name: gedit}")),
    ("EA1", apps("  - firefox\n  - firefox  # <-", where="domain"), ("  - firefox  # <-", "  - gedit  # <-")),
    ("EA1", apps("  - {name: ed.it}  # <-"), ("ed.it", "edit")),
    ("EA2", apps('  - name: edit\n    command: "gedit \'unclosed"  # <-'), ("'unclosed", "closed")),
    ("EA2", apps("  - name: edit\n    command: []  # <-"), ("[]", "[gedit]")),
    ("EA2", apps('  - name: edit\n    command: ["gedit", "a\\nExec=rm -rf ~"]  # <-'), ("\\nExec=", " ")),
    ("EA2", apps("  - name: edit\n    command: {gedit: x}  # <-"), ("{gedit: x}", "gedit")),
    ("EA3", apps('  - name: edit\n    label: "Edit\\nExec=evil"  # <-'), ("\\nExec=", " ")),
    ("EA3", apps("  - name: edit\n    icon: icons/edit.png  # <-"), ("icons/", "/icons/")),
    (
        "FP1",
        portal("[/srv/portal]  # <-").replace("file_portal:\n    [", "file_portal: ["),
        ("[/srv/portal]", "{host: /srv/p}"),
    ),
    ("FP1", portal("path: /portal  # <-"), ("path: /portal", "host: /srv/p")),
    ("FP2", portal("host: srv/portal  # <-"), ("srv/", "/srv/")),
    ("FP2", portal("host: /srv/portal\npath: /mnt/../etc  # <-"), ("/mnt/../etc", "/mnt/portal")),
    ("FP2", portal("host: /  # <-"), ("host: /", "host: /srv/p")),
    ("FP2", portal('host: /srv/portal\nwritable: "yes"  # <-'), ('"yes"', "true")),
    (
        "FP3",
        portal("host: /srv/portal", machine="      devices:\n        file-portal: {type: disk}  # <-\n"),
        ("file-portal: {", "my-disk: {"),
    ),
]

test_rule_reports_an_error_on_the_offending_node, test_near_identical_valid_infra_passes_the_rule = rule_case_tests(
    CASES
)


def warnings_of(tmp_path, text):
    loaded = load_text(tmp_path, text)
    assert validate_structure(loaded.data, loaded.source) == []
    return [(w.rule, w.message) for w in collect_warnings(loaded.data, loaded.source, HostContext())]


def test_both_keys_are_implemented_so_they_raise_no_warning(tmp_path):
    text = domain(
        extra="  export_apps: [xterm]\n  file_portal: {host: /srv/portal, path: /portal, writable: true}\n",
        machine="      export_apps:\n        - firefox\n"
        "        - {name: edit, command: [gedit, -s], label: Ed, icon: ed}\n",
    )
    assert warnings_of(tmp_path, text) == []


def test_an_unknown_key_inside_them_is_w7(tmp_path):
    text = portal("host: /srv/portal\nreadonly: true", machine="      export_apps: [{name: edit, colour: red}]\n")
    assert warnings_of(tmp_path, text) == [
        ("W7", "unknown key 'readonly' in domains.pro.file_portal"),
        ("W7", "unknown key 'colour' in domains.pro.machines.pro-dev.export_apps[0]"),
    ]
