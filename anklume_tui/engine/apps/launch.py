"""`launch MACHINE -- APP [ARGS]` (issue 21): an exported application's menu entry runs it in its machine
through Incus's exec.

The display comes from the machine itself: the display passthrough (`desktop: {display: true}`, psot/desktop.py)
writes DISPLAY and WAYLAND_DISPLAY into the machine's `environment.*` config, which Incus sets for every exec.
The host session's own values are not passed: they name the host's sockets, and would override the machine's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...errors import Failed, Invalid, Refused
from ...printable import printable
from ...psot.model import Infra
from ..incus.client import IncusClient
from ..incus.errors import IncusError, IncusUnreachable
from ..incus.models import ExecResult


async def launch_app(
    client: IncusClient, infra: Infra, machine: str, argv: Sequence[str], env: Mapping[str, str] | None = None
) -> ExecResult:
    """Run `argv` in `machine` to its end; its exit code and output. Invalid: no such machine, or no command;
    Refused: its domain is disabled; Failed: Incus could not run it (the machine is stopped, ...)."""
    if not argv:
        raise Invalid("launch: no command given (launch MACHINE -- APP [ARGS])")
    found = [(d, m) for d in infra.domains for m in d.machines if m.name == machine]
    if not found:
        known = ", ".join(sorted(m.name for m in infra.machines)) or "none"
        raise Invalid(f"launch: no machine {machine!r} in the infra (its machines: {known})")
    domain, declared = found[0]
    if not domain.enabled:
        raise Refused(f"launch: machine {machine!r} is in disabled domain {domain.name!r}")
    try:
        return await client.exec(declared.instance_name, list(argv), project=domain.project, env=dict(env or {}))
    except IncusUnreachable:
        raise
    except IncusError as exc:
        where = f"{domain.project}/{declared.instance_name}"
        raise Failed(f"launch {printable(' '.join(argv))} in {where}: {exc}") from None
