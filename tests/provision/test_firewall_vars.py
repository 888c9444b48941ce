"""The firewall VM's role gets its interfaces and ruleset from anklume-tui at run time (SPEC §9.3)."""

from __future__ import annotations

from anklume_tui.engine.provision.runner import firewall_vars, machines_to_provision
from tests.engine.nft_helpers import infra_from, needs_nft, nft_check_in_fresh_netns

FIREWALL_VM = """\
project_name: fw
global:
  addressing: {}
  firewall_mode: vm
domains:
  anklume:
    trust_level: admin
    machines:
      anklume-instance: {}
  pro:
    trust_level: trusted
    machines:
      pro-dev: {}
  lab:
    machines:
      lab-box: {}
network_policies:
  - description: "pro reaches the lab's web"
    from: pro
    to: lab
    ports: [80]
"""


def test_firewall_vm_run_gets_its_interfaces_and_ruleset(tmp_path):
    infra = infra_from(FIREWALL_VM, tmp_path)
    found = firewall_vars(infra, machines_to_provision(infra, None))
    interfaces = found["firewall_router_interfaces"]
    assert [(i["name"], i["bridge"]) for i in interfaces] == [
        ("eth0", "net-anklume"),
        ("eth1", "net-lab"),
        ("eth2", "net-pro"),
    ]
    assert all(i["gateway_ip"].endswith(".253") and i["subnet"].endswith(".0/24") for i in interfaces)
    ruleset = found["firewall_router_ruleset"]
    assert 'iifname "eth2" oifname "eth1" tcp dport { 80 } accept' in ruleset
    assert 'log prefix "FW-DENY-LAB: " drop' in ruleset


def test_run_without_the_firewall_vm_carries_no_ruleset(tmp_path):
    infra = infra_from(FIREWALL_VM, tmp_path)
    assert firewall_vars(infra, machines_to_provision(infra, "lab")) == {}


@needs_nft
def test_firewall_vm_ruleset_is_accepted_by_nft(tmp_path):
    infra = infra_from(FIREWALL_VM, tmp_path)
    ruleset = firewall_vars(infra, machines_to_provision(infra, None))["firewall_router_ruleset"]
    checked = nft_check_in_fresh_netns(ruleset, tmp_path)
    assert checked.returncode == 0, checked.stderr
