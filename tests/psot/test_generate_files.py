"""Contents of the generated files (SPEC §7.1, §7.2)."""

from __future__ import annotations

from textwrap import dedent

import yaml

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.enrich import enrich
from anklume_tui.psot.generate import render_files
from anklume_tui.psot.load import load_infra
from anklume_tui.psot.model import build_model

from .generate_helpers import infra_of, legacy_data, zone_data


def test_zone_mode_tree_has_all_yml_then_each_enabled_domain_in_declaration_order():
    files = render_files(infra_of(zone_data(), "001-"))
    assert list(files) == [
        "group_vars/all.yml",
        "inventory/anklume.yml",
        "group_vars/anklume.yml",
        "host_vars/anklume-instance.yml",
        "inventory/pro.yml",
        "group_vars/pro.yml",
        "host_vars/pro-dev.yml",
        "host_vars/pro-db.yml",
    ]


def test_all_yml_in_zone_mode_has_addressing_images_of_every_domain_and_policies():
    assert render_files(infra_of(zone_data()))["group_vars/all.yml"] == (
        "anklume_inventory_version: 1\n"
        "project_name: demo\n"
        "addressing:\n"
        "  zone_base: 100\n"
        "default_os_image: images:debian/13\n"
        "incus_all_images:\n"
        "  - images:alpine/3.20\n"
        "  - images:debian/13\n"
        "  - images:ubuntu/24.04\n"
        "network_policies:\n"
        "  - description: pro to admin\n"
        "    from: pro\n"
        "    to: anklume\n"
        "    ports:\n"
        "      - 22\n"
    )


def test_all_yml_in_legacy_mode_has_base_subnet_and_omits_empty_images_and_policies():
    assert render_files(infra_of(legacy_data()))["group_vars/all.yml"] == (
        "anklume_inventory_version: 1\n"
        "project_name: legacy\nbase_subnet: '10.50'\npsot_default_connection: community.general.incus\n"
    )


def test_legacy_all_yml_writes_the_default_base_subnet_when_none_is_given():
    data = legacy_data()
    del data["global"]["base_subnet"]
    assert "base_subnet: '10.100'\n" in render_files(infra_of(data))["group_vars/all.yml"]


def test_inventory_maps_each_host_to_its_ip_or_null():
    assert render_files(infra_of(legacy_data()))["inventory/lab.yml"] == (
        "all:\n  children:\n    lab:\n      hosts:\n        lab-a:\n        lab-b:\n          ansible_host: 10.50.3.7\n"
    )


def test_inventory_hosts_is_null_without_machines():
    text = render_files(infra_of(legacy_data()))["inventory/empty.yml"]
    assert text == "all:\n  children:\n    empty:\n      hosts:\n"
    assert yaml.safe_load(text) == {"all": {"children": {"empty": {"hosts": None}}}}


def test_group_vars_of_a_zone_domain_with_prefix_and_profiles():
    assert render_files(infra_of(zone_data(), "001-"))["group_vars/pro.yml"] == (
        "domain_name: pro\n"
        "domain_description: ''\n"
        "domain_ephemeral: false\n"
        "domain_trust_level: trusted\n"
        "domain_ai_provider: cloud\n"
        "domain_ai_sanitize: true\n"
        "incus_project: 001-pro\n"
        "incus_network:\n"
        "  name: 001-net-pro\n"
        "  subnet: 10.110.0.0/24\n"
        "  gateway: 10.110.0.254\n"
        "subnet_id: 0\n"
        "incus_profiles:\n"
        "  big:\n"
        "    config:\n"
        "      limits.cpu: '4'\n"
    )


def test_legacy_group_vars_omit_an_undeclared_trust_level_and_keep_the_given_subnet_id():
    assert render_files(infra_of(legacy_data()))["group_vars/lab.yml"] == (
        "domain_name: lab\n"
        "domain_description: ''\n"
        "domain_ephemeral: false\n"
        "domain_ai_provider: local\n"
        "domain_ai_sanitize: false\n"
        "incus_project: lab\n"
        "incus_network:\n"
        "  name: net-lab\n"
        "  subnet: 10.50.3.0/24\n"
        "  gateway: 10.50.3.254\n"
        "subnet_id: 3\n"
    )


def test_legacy_group_vars_keep_a_declared_trust_level():
    assert "domain_trust_level: untrusted\n" in render_files(infra_of(legacy_data()))["group_vars/empty.yml"]


def test_host_vars_carry_every_declared_key_in_spec_order():
    assert render_files(infra_of(zone_data(), "001-"))["host_vars/pro-dev.yml"] == (
        "instance_name: 001-pro-dev\n"
        "instance_type: lxc\n"
        "instance_description: Dev box\n"
        "instance_domain: pro\n"
        "instance_ephemeral: true\n"
        "instance_os_image: images:debian/13\n"
        "instance_ip: 10.110.0.1\n"
        "instance_gpu: true\n"
        "instance_profiles:\n"
        "  - default\n"
        "  - big\n"
        "instance_config:\n"
        "  limits.memory: 2GiB\n"
        "instance_devices:\n"
        "  sv-docs:\n"
        "    type: disk\n"
        "    source: /srv/docs\n"
        "    path: /docs\n"
        "instance_boot_priority: 10\n"
    )


def test_host_vars_of_a_minimal_legacy_machine_omit_undeclared_keys():
    assert render_files(infra_of(legacy_data()))["host_vars/lab-a.yml"] == (
        "instance_name: lab-a\n"
        "instance_type: lxc\n"
        "instance_description: ''\n"
        "instance_domain: lab\n"
        "instance_ephemeral: false\n"
    )


def test_machine_inherits_domain_ephemeral_unless_it_declares_its_own():
    data = legacy_data()
    data["domains"]["lab"]["ephemeral"] = True
    data["domains"]["lab"]["machines"]["lab-b"]["ephemeral"] = False
    files = render_files(infra_of(data))
    assert yaml.safe_load(files["host_vars/lab-a.yml"])["instance_ephemeral"] is True
    assert yaml.safe_load(files["host_vars/lab-b.yml"])["instance_ephemeral"] is False


def test_disabled_domain_gets_no_files():
    files = render_files(infra_of(zone_data()))
    assert not [path for path in files if "old" in path]


def test_no_domains_still_writes_all_yml():
    files = render_files(infra_of({"project_name": "x", "global": {}, "domains": None}))
    assert files == {"group_vars/all.yml": "anklume_inventory_version: 1\nproject_name: x\nbase_subnet: '10.100'\n"}


def test_connection_variables_never_appear():
    data = zone_data()
    data["global"]["default_user"] = "root"
    text = "".join(render_files(infra_of(data)).values())
    assert "ansible_connection" not in text and "ansible_user" not in text
    assert "psot_default_user: root\n" in text


def test_ai_sanitize_given_by_the_user_is_kept():
    data = zone_data()
    data["domains"]["pro"]["ai_sanitize"] = "always"
    assert "domain_ai_sanitize: always\n" in render_files(infra_of(data))["group_vars/pro.yml"]


def test_unicode_is_written_as_is():
    data = legacy_data()
    data["domains"]["lab"]["description"] = "Laboratoire d'été"
    assert "domain_description: Laboratoire d'été\n" in render_files(infra_of(data))["group_vars/lab.yml"]


def test_enriched_firewall_vm_volumes_and_ai_policy_reach_the_files(tmp_path):
    path = tmp_path / "infra.yml"
    path.write_text(
        dedent("""\
        project_name: e2e
        global:
          addressing: {}
          firewall_mode: vm
          ai_access_policy: exclusive
          ai_access_default: pro
        domains:
          anklume:
            trust_level: admin
            machines:
              anklume-instance: {}
          pro:
            trust_level: trusted
            machines:
              pro-dev:
                persistent_data:
                  home: {path: /home/user}
          ai-tools:
            machines:
              ai-gpu: {gpu: true}
        """)
    )
    loaded = load_infra(path)
    files = render_files(build_model(enrich(loaded.data, loaded.source, HostContext()), ""))
    firewall = yaml.safe_load(files["host_vars/anklume-firewall.yml"])
    assert (firewall["instance_type"], firewall["instance_ip"]) == ("vm", "10.100.0.253")
    assert list(yaml.safe_load(files["inventory/anklume.yml"])["all"]["children"]["anklume"]["hosts"]) == [
        "anklume-instance",
        "anklume-firewall",
    ]
    devices = yaml.safe_load(files["host_vars/pro-dev.yml"])["instance_devices"]
    assert devices["pd-home"]["path"] == "/home/user"
    policies = yaml.safe_load(files["group_vars/all.yml"])["network_policies"]
    assert [(p["from"], p["to"]) for p in policies] == [("pro", "ai-tools")]
    assert yaml.safe_load(files["group_vars/ai-tools.yml"])["domain_trust_level"] == "semi-trusted"
