"""The typed desired state the generator and the engine read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from .generate_helpers import infra_of, legacy_data, zone_data


def test_incus_names_carry_the_prefix_and_file_names_do_not():
    infra = infra_of(zone_data(), "002-")
    pro = infra.domains[1]
    assert (pro.name, pro.project, pro.network) == ("pro", "002-pro", "002-net-pro")
    assert [(m.name, m.instance_name, m.domain) for m in pro.machines] == [
        ("pro-dev", "002-pro-dev", "pro"),
        ("pro-db", "002-pro-db", "pro"),
    ]


def test_domains_and_machines_keep_declaration_order_disabled_included():
    infra = infra_of(zone_data())
    assert [d.name for d in infra.domains] == ["anklume", "pro", "old"]
    assert [d.name for d in infra.enabled_domains] == ["anklume", "pro"]
    assert [m.name for m in infra.machines] == ["anklume-instance", "pro-dev", "pro-db", "old-box"]


def test_subnet_gateway_and_subnet_id_come_from_addressing():
    pro = infra_of(zone_data()).domains[1]
    assert (pro.subnet, pro.gateway, pro.subnet_id) == ("10.110.0.0/24", "10.110.0.254", 0)


def test_ai_sanitize_is_false_for_local_and_true_otherwise_unless_given():
    data = legacy_data()
    data["domains"]["lab"]["ai_provider"] = "local-first"
    infra = infra_of(data)
    assert [d.ai_sanitize for d in infra.domains] == [True, False]


def test_effective_trust_defaults_to_semi_trusted_while_the_declared_one_stays_none():
    lab = infra_of(legacy_data()).domains[0]
    assert lab.trust_level is None and lab.effective_trust == "semi-trusted"


def test_image_falls_back_to_the_default_then_to_debian():
    infra = infra_of(zone_data())
    assert infra.machines[0].os_image == "images:debian/13"
    legacy = infra_of(legacy_data())
    assert legacy.machines[0].os_image is None and legacy.machines[0].image == "images:debian/13"
    assert infra.images == ["images:alpine/3.20", "images:debian/13", "images:ubuntu/24.04"]


def test_engine_facing_machine_fields_are_typed():
    dev = infra_of(zone_data()).domains[1].machines[0]
    assert dev.type == "lxc" and dev.gpu is True and dev.ephemeral is True
    assert dev.profiles == ["default", "big"] and dev.config == {"limits.memory": "2GiB"}
    assert dev.boot_priority == 10 and dev.weight == 1


def test_a_boolean_is_refused_where_an_integer_is_expected():
    data = legacy_data()
    data["domains"]["lab"]["machines"]["lab-a"]["boot_priority"] = True
    with pytest.raises(ValidationError):
        infra_of(data)


def test_network_policy_gives_defaults_but_keeps_only_declared_keys():
    policy = infra_of(zone_data()).network_policies[0]
    assert (policy.from_, policy.to, policy.ports, policy.protocol, policy.bidirectional) == (
        "pro",
        "anklume",
        [22],
        "tcp",
        False,
    )
    assert policy.as_declared() == {
        "description": "pro to admin",
        "from": "pro",
        "to": "anklume",
        "ports": [22],
    }


def test_legacy_and_zone_mode_are_told_apart():
    zone, legacy = infra_of(zone_data()), infra_of(legacy_data())
    assert zone.zone_mode and zone.addressing == {"zone_base": 100}
    assert not legacy.zone_mode and legacy.addressing is None and legacy.base_subnet == "10.50"
