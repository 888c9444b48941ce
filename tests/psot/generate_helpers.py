"""Hand-made enriched infras for the generator tests (independent of enrich.py's details)."""

from __future__ import annotations

from anklume_tui.psot.addressing import plan_subnets
from anklume_tui.psot.enrich import Enriched
from anklume_tui.psot.model import Infra, build_model


def infra_of(data: dict, prefix: str = "") -> Infra:
    """The model of already-enriched `data` (trust levels, IPs and devices written out)."""
    subnets, _ = plan_subnets(data)
    return build_model(Enriched(data, subnets, []), prefix)


def zone_data() -> dict:
    """A small trust-zone infra as enrichment leaves it: two enabled domains and a disabled one."""
    return {
        "project_name": "demo",
        "global": {"addressing": {"zone_base": 100}, "default_os_image": "images:debian/13"},
        "domains": {
            "anklume": {
                "description": "Admin",
                "trust_level": "admin",
                "machines": {"anklume-instance": {"ip": "10.100.0.1", "roles": ["base_system"]}},
            },
            "pro": {
                "trust_level": "trusted",
                "ai_provider": "cloud",
                "profiles": {"big": {"config": {"limits.cpu": "4"}}},
                "machines": {
                    "pro-dev": {
                        "description": "Dev box",
                        "ip": "10.110.0.1",
                        "gpu": True,
                        "profiles": ["default", "big"],
                        "config": {"limits.memory": "2GiB"},
                        "devices": {"sv-docs": {"type": "disk", "source": "/srv/docs", "path": "/docs"}},
                        "ephemeral": True,
                        "boot_priority": 10,
                    },
                    "pro-db": {"type": "vm", "os_image": "images:ubuntu/24.04", "ip": "10.110.0.2"},
                },
            },
            "old": {
                "enabled": False,
                "trust_level": "semi-trusted",
                "machines": {"old-box": {"os_image": "images:alpine/3.20", "ip": "10.120.0.1"}},
            },
        },
        "network_policies": [{"description": "pro to admin", "from": "pro", "to": "anklume", "ports": [22]}],
    }


def legacy_data() -> dict:
    return {
        "project_name": "legacy",
        "global": {"base_subnet": "10.50", "default_connection": "community.general.incus"},
        "domains": {
            "lab": {"subnet_id": 3, "machines": {"lab-a": {}, "lab-b": {"ip": "10.50.3.7"}}},
            "empty": {"subnet_id": 4, "trust_level": "untrusted", "ephemeral": True},
        },
    }
