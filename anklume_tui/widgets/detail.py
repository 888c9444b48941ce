"""The detail pane: what the selected domain or machine declares (and, later, what Incus holds)."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ..psot.constants import TRUST_GLYPHS


def _pairs(title: str, pairs: list[tuple[str, object]]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold")
    table.add_column()
    for key, value in pairs:
        if value not in (None, "", [], {}):
            table.add_row(key, Text(_text(value)))  # declared text and Incus values are never markup
    table.title = title
    table.title_justify = "left"
    return table


def _text(value: object) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def domain_detail(domain, status=None) -> Group:
    trust = domain.effective_trust
    head = Text(f"{TRUST_GLYPHS[trust]} {domain.name}  [{trust}]", style="bold")
    real = []
    if status is not None:
        real = [
            _pairs(
                "In Incus",
                [
                    ("project", "present" if status.exists else "missing"),
                    ("bridge", "present" if status.network_exists else "missing"),
                    ("running", sum(m.state == "Running" for m in status.machines)),
                ],
            )
        ]
    return Group(
        head,
        *real,
        _pairs(
            "Declared",
            [
                ("description", domain.description),
                ("enabled", domain.enabled),
                ("protected", not domain.ephemeral),
                ("project", domain.project),
                ("bridge", domain.network),
                ("subnet", domain.subnet),
                ("gateway", domain.gateway),
                ("machines", len(domain.machines)),
                ("profiles", list(domain.profiles)),
            ],
        ),
    )


def smoke_detail(when: datetime, result) -> Table:
    """The machine's last smoke run: a line per check, ok or failed, and what it found (text from the machine:
    data, never markup)."""
    failed = sum(not check.ok for check in result.checks)
    table = Table.grid(padding=(0, 1))
    table.add_column()
    table.add_column(style="bold")
    table.add_column()
    for check in result.checks:
        mark = Text("ok", style="green") if check.ok else Text("failed", style="bold red")
        where = "" if check.ran_in == result.machine else f" (from {check.ran_in})"
        table.add_row(mark, Text(check.name + where), Text(check.detail))
    table.title = f"Last smoke ({when:%H:%M:%S}): {len(result.checks) - failed} passed, {failed} failed"
    table.title_justify = "left"
    return table


def _where(service) -> str:
    """An Offer's or a Use's end: its TCP port or its socket path."""
    return f"port {service.port}" if service.port is not None else f"socket {service.socket}"


def _offer_line(offer) -> str:
    to = ", ".join(offer.consumers) or "no consumer"
    about = f": {offer.description}" if offer.description else ""
    return f"{offer.name} ({offer.protocol}, {_where(offer)}) to {to}{about}"


def _use_line(use) -> str:
    return f"{use.provider}/{use.name} ({use.protocol}, {_where(use)}, via {use.via})"


def machine_detail(domain, machine, status=None, smoke=None, services=None) -> Group:
    """`smoke`: (when, the machine's checks) of the last smoke run, or None; `services`: the infra's service
    map (psot.services), or None before it is read."""
    offers = services.offers(machine.name) if services is not None else ()
    uses = services.uses(machine.name) if services is not None else ()
    head = Text(f"{machine.name}  in {domain.name} [{domain.effective_trust}]", style="bold")
    real = []
    if status is not None:
        real = [
            _pairs(
                "In Incus",
                [
                    ("state", status.state),
                    ("ip", status.ip),
                    ("protected", status.protected),
                    ("snapshots", status.snapshots),
                    ("drift", "\n".join(status.differences) or status.drift),
                ],
            )
        ]
    if smoke is not None:
        real.append(smoke_detail(*smoke))
    return Group(
        head,
        *real,
        _pairs(
            "Declared",
            [
                ("description", machine.description),
                ("instance", machine.instance_name),
                ("project", domain.project),
                ("type", machine.type),
                ("ip", machine.ip or "DHCP"),
                ("image", machine.os_image),
                ("protected", not machine.ephemeral),
                ("gpu", machine.gpu),
                ("profiles", machine.profiles),
                ("roles", machine.roles),
                ("config", machine.config),
                ("devices", {name: dev.get("type", "?") for name, dev in (machine.devices or {}).items()}),
                ("offers", "\n".join(_offer_line(o) for o in offers)),
                ("uses", "\n".join(_use_line(u) for u in uses)),
            ],
        ),
    )


class Detail(Static):
    """Shows one subject at a time; `subject` names it ("d:<domain>", "m:<machine>", or "")."""

    subject = ""

    def show(self, subject: str, renderable) -> None:
        self.subject = subject
        self.update(renderable)
