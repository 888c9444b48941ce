"""Enrichment of services between domains: a consumes grant opens the narrowest policy (TCP) or two proxy
devices through one host socket (unix), and the read model the faces show says the same."""

from __future__ import annotations

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from anklume_tui.psot.services import Offer, Use, service_map

from .enrich_helpers import enrich_yaml, machine

INFRA = """\
project_name: demo
global: {addressing: {}, services_base: /srv/svc}
domains:
  tools:
    trust_level: trusted
    machines:
      tools-mcp:
        services:
          notes: {description: Notes over MCP, protocol: mcp, socket: /run/mcp/notes.sock}
          search: {protocol: mcp, port: 8765}
  work:
    consumes: [tools-mcp/search]
    machines:
      work-dev:
        consumes:
          - tools-mcp/search
          - service: tools-mcp/notes
            socket: /run/notes.sock
            uid: 1000
            gid: 1000
      work-web:
        devices:
          svc-tools-mcp-notes: {type: disk, source: /mine, path: /mine}
        consumes: [tools-mcp/notes]
  lab:
    machines:
      lab-box: {}
"""


def test_tcp_grants_become_the_narrowest_policies_once_per_source(tmp_path):
    enriched = enrich_yaml(tmp_path, INFRA)
    assert enriched.data["network_policies"] == [
        {
            "description": "service tools-mcp/search for work-dev (auto-created)",
            "from": "work-dev",
            "to": "tools-mcp",
            "ports": [8765],
            "protocol": "tcp",
        },
        {
            "description": "service tools-mcp/search for work (auto-created)",
            "from": "work",
            "to": "tools-mcp",
            "ports": [8765],
            "protocol": "tcp",
        },
    ]


def test_socket_grants_become_two_proxy_devices_through_one_host_socket(tmp_path):
    enriched = enrich_yaml(tmp_path, INFRA, HostContext(absolute_level=1))
    host = "/srv/svc/001-tools/001-tools-mcp/notes.sock"
    assert machine(enriched, "tools", "tools-mcp")["devices"] == {
        "svc-notes": {"type": "proxy", "bind": "host", "listen": f"unix:{host}", "connect": "unix:/run/mcp/notes.sock"}
    }
    assert machine(enriched, "work", "work-dev")["devices"] == {
        "svc-tools-mcp-notes": {
            "type": "proxy",
            "bind": "instance",
            "listen": "unix:/run/notes.sock",
            "connect": f"unix:{host}",
            "uid": "1000",
            "gid": "1000",
            "mode": "0660",
        }
    }
    # the user's own device of that name wins, as with volume devices; a machine with no grant is untouched
    assert machine(enriched, "work", "work-web")["devices"]["svc-tools-mcp-notes"]["type"] == "disk"
    assert machine(enriched, "lab", "lab-box") == {"ip": machine(enriched, "lab", "lab-box")["ip"]}


def test_no_consumes_adds_nothing(tmp_path):
    text = INFRA.split("  work:\n")[0]
    enriched = enrich_yaml(tmp_path, text)
    assert "network_policies" not in enriched.data
    assert "devices" not in machine(enriched, "tools", "tools-mcp")


def test_service_map_says_who_offers_and_uses_what(tmp_path):
    path = tmp_path / "infra.yml"
    path.write_text(
        INFRA.replace(
            "          svc-tools-mcp-notes: {type: disk, source: /mine, path: /mine}\n", "          x: {type: none}\n"
        )
    )
    result = run_psot(path, HostContext())
    assert result.infra is not None, [f.render() for f in result.findings]
    services = service_map(result.infra)
    assert services.offers("tools-mcp") == (
        Offer("tools-mcp", "notes", "mcp", None, "/run/mcp/notes.sock", "Notes over MCP", ("work-dev", "work-web")),
        Offer("tools-mcp", "search", "mcp", 8765, None, "", ("work-dev", "work-web")),
    )
    assert services.uses("work-dev") == (
        Use("work-dev", "tools-mcp", "search", "mcp", 8765, None, "policy"),
        Use("work-dev", "tools-mcp", "notes", "mcp", None, "/run/notes.sock", "proxy"),
    )
    assert services.uses("work-web") == (
        Use("work-web", "tools-mcp", "search", "mcp", 8765, None, "policy"),
        Use("work-web", "tools-mcp", "notes", "mcp", None, "/run/tools-mcp-notes.sock", "proxy"),  # the default
    )
    assert services.offers("work-dev") == () and services.uses("lab-box") == ()


def test_a_disabled_domain_consumes_nothing(tmp_path):
    text = INFRA.replace("  work:\n    consumes:", "  work:\n    enabled: false\n    consumes:")
    enriched = enrich_yaml(tmp_path, text)
    assert "network_policies" not in enriched.data
    assert "devices" not in machine(enriched, "tools", "tools-mcp")
    assert "devices" not in machine(enriched, "work", "work-dev")
