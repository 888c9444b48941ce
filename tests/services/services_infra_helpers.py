"""The infra the services faces' tests share: tools-mcp (domain tools) offers a unix-socket service `notes` whose
description carries Rich markup (shown as written) and a TCP service `search`; domain work consumes `search`,
and work-dev also `notes` at its own socket path; work-ops consumes only what its domain does."""

from __future__ import annotations


def provider_and_consumer(project: str, subnet: str, *, os_image: str | None = None) -> str:
    """That infra for `project` in legacy addressing under `subnet` ("10.122"), each machine on `os_image`."""
    image = f"\n        os_image: {os_image}" if os_image else ""
    return f"""\
project_name: {project}
global:
  base_subnet: "{subnet}"
domains:
  tools:
    trust_level: trusted
    subnet_id: 0
    machines:
      tools-mcp:
        ip: {subnet}.0.10{image}
        services:
          notes:
            description: "Notes [bold]over[/] MCP"
            protocol: mcp
            socket: /run/mcp/notes.sock
          search:
            port: 8765
  work:
    trust_level: semi-trusted
    subnet_id: 1
    consumes: [tools-mcp/search]
    machines:
      work-dev:
        ip: {subnet}.1.10{image}
        consumes:
          - service: tools-mcp/notes
            socket: /home/user/notes.sock
            uid: 1000
            gid: 1000
      work-ops:
        ip: {subnet}.1.11{image}
"""
