"""Infra text reaches Ansible as data, never as template code (SPEC §4.4 M13, §7.2): role names are identifiers,
and every generated value that holds text Ansible could evaluate carries `!unsafe`, which Ansible's own loader
reads as untrusted (never rendered)."""

from __future__ import annotations

from textwrap import dedent

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import is_trusted_as_template

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.generate import merge_managed, render_files, sync_tree
from anklume_tui.psot.orphans import find_orphans
from anklume_tui.psot.pipeline import run_psot
from anklume_tui.psot.validate import validate_structure

from .generate_helpers import infra_of, legacy_data
from .psot_helpers import assert_case_fails, assert_fixed_case_passes, infra, load_text, of_rule

LOOKUP = "{{ lookup('pipe', 'touch /tmp/never') }}"
JINJA_HEADER = "#jinja2:variable_start_string:'[[', variable_end_string:']]'\n[[ lookup('pipe', 'id') ]]"


def one_machine(line: str) -> str:
    return f"pro:\n  subnet_id: 1\n  machines:\n    pro-dev:\n      ip: 10.100.1.10\n      {line}\n"


ROLE_CASES = [
    (
        "M13",
        infra(domains=one_machine("roles: [\"{{ lookup('pipe', 'id') }}\"]  # <-")),
        ("\"{{ lookup('pipe', 'id') }}\"", "web"),
    ),
    ("M13", infra(domains=one_machine("roles: [../../../etc]  # <-")), ("../../../etc", "etc")),
    ("M13", infra(domains=one_machine("roles: [web, 'a b']  # <-")), ("'a b'", "a_b")),
    ("M13", infra(domains=one_machine("roles: [web/server]  # <-")), ("web/server", "web.server")),
]


@pytest.mark.parametrize(("rule", "text", "fix"), ROLE_CASES, ids=[c[2][0] for c in ROLE_CASES])
def test_a_role_that_is_not_an_identifier_is_an_error_on_its_entry(tmp_path, rule, text, fix):
    assert_case_fails(tmp_path, rule, text)
    assert_fixed_case_passes(tmp_path, text, fix)


def test_role_message_names_machine_role_and_place(tmp_path):
    text = infra(domains=one_machine("roles: [base_system, \"{{ lookup('pipe', 'id') }}\"]"))
    loaded = load_text(tmp_path, text)
    [m13] = of_rule(validate_structure(loaded.data, loaded.source), "M13")
    assert m13.render() == (
        f"{tmp_path / 'infra.yml'}:9:30: error[M13]: Machine 'pro-dev': role '{{{{ lookup('pipe', 'id') }}}}' "
        "is not a role name (letters, digits and _, parts joined by . or -)"
    )


def test_galaxy_and_collection_role_names_pass(tmp_path):
    text = infra(domains=one_machine("roles: [ollama_server, geerlingguy.docker, ns.coll.my-role]"))
    loaded = load_text(tmp_path, text)
    assert validate_structure(loaded.data, loaded.source) == []


HOSTILE = dedent(f"""\
    project_name: demo
    global:
      base_subnet: "10.100"
      default_os_image: images:debian/13
      default_connection: "{LOOKUP}"
      default_user: "{LOOKUP}"
    domains:
      pro:
        description: "{LOOKUP}"
        subnet_id: 1
        profiles:
          big:
            config: {{user.note: "{LOOKUP}", "user.{LOOKUP}": x}}
        machines:
          pro-dev:
            description: {yaml.safe_dump(JINJA_HEADER, default_style='"', width=1000).strip()}
            ip: 10.100.1.10
            os_image: "images:debian/13 {LOOKUP}"
            profiles: [default, big]
            config: {{user.note: "{LOOKUP}"}}
            devices: {{extra: {{type: disk, source: "/srv/{LOOKUP}", path: /data}}}}
            storage_volumes: {{vol: {{size: "{LOOKUP}", path: /vol}}}}
            snapshots_schedule: "{{{{a}}}} * * * *"
    network_policies:
      - description: "VNC {LOOKUP}"
        from: pro
        to: host
        ports: [5900]
    """)


def test_every_possible_template_in_the_generated_tree_is_untrusted_for_ansible(tmp_path):
    """The generated files, read by Ansible's own loader as it reads group_vars and host_vars: no string that
    Ansible could take for a template is trusted, and each keeps its text."""
    path = tmp_path / "infra.yml"
    path.write_text(HOSTILE)
    result = run_psot(path, HostContext(skip_subnet_check=True))
    assert result.valid, [f.render() for f in result.findings]
    files = render_files(result.infra)
    seen: list[str] = []
    for relative, body in files.items():
        target = tmp_path / "tree" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(merge_managed(None, body))
        loaded = DataLoader().load_from_file(str(target), trusted_as_template=True)
        for text in _strings(loaded):
            if "{" in text or "#" in text:
                assert not is_trusted_as_template(text), f"{relative}: {text!r} would be evaluated"
                seen.append(text)
    assert seen.count(LOOKUP) >= 6  # connection, user, domain, profile, machine config, ...
    assert JINJA_HEADER in seen
    assert f"VNC {LOOKUP}" in seen and f"/srv/{LOOKUP}" in seen and "{{a}} * * * *" in seen
    assert f"user.{LOOKUP}" in seen  # a key, under its tagged value


def _strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_a_value_with_braces_is_tagged_and_the_others_are_written_as_before():
    data = legacy_data()
    data["domains"]["lab"]["description"] = "Lab {{ not a var }}"
    data["domains"]["lab"]["machines"]["lab-a"]["config"] = {"user.note": "50% {%", "limits.cpu": "2"}
    files = render_files(infra_of(data))
    assert "domain_description: !unsafe Lab {{ not a var }}\n" in files["group_vars/lab.yml"]
    assert "domain_name: lab\n" in files["group_vars/lab.yml"]
    assert files["host_vars/lab-a.yml"].endswith("instance_config: !unsafe\n  user.note: 50% {%\n  limits.cpu: '2'\n")
    assert "!unsafe" not in files["host_vars/lab-b.yml"] and "!unsafe" not in files["inventory/lab.yml"]
    assert yaml.safe_load(render_files(infra_of(legacy_data()))["group_vars/lab.yml"])["domain_description"] == ""


def test_a_tagged_orphan_is_still_protected_by_its_ephemeral_key(tmp_path):
    data = legacy_data()
    data["domains"]["lab"]["machines"]["lab-a"]["description"] = "keep {{ me }}"
    sync_tree(tmp_path, infra_of(data), dry_run=False, clean_orphans=False)
    assert "!unsafe" in (tmp_path / "host_vars" / "lab-a.yml").read_text()
    del data["domains"]["lab"]["machines"]["lab-a"]
    orphans = find_orphans(tmp_path, infra_of(data))
    assert [(o.path, o.protected) for o in orphans] == [("host_vars/lab-a.yml", True)]
