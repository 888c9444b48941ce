"""Disposables for the TUI and `disp`: stop one, or get the argv that attaches a shell to it while the
terminal is handed over."""

from __future__ import annotations

import shutil

from ...errors import Failed
from ..console.layout import incus_cli_environment
from ..incus.client import IncusClient
from ..incus.endpoint import resolve_endpoint
from ..incus.errors import IncusNotFound
from .disposables import Disposable, shell_command
from .lifecycle import Target, change_state


async def stop_disposable(client: IncusClient, disposable: Disposable) -> None:
    """Stopping destroys it (Incus-ephemeral); already gone is fine."""
    try:
        await change_state(client, Target(disposable.project, disposable.name), "stop")
    except IncusNotFound:
        return


def shell_argv(url: str | None, disposable: Disposable) -> list[str]:
    """`env INCUS_…=… incus exec … /bin/sh -l`: the incus CLI pointed at the same daemon as the TUI.
    Raises Failed without the incus CLI, ConsoleError when the CLI has no remote for an HTTPS URL."""
    incus = shutil.which("incus")
    if incus is None:
        raise Failed(f"the incus CLI is not installed: {disposable.name} is left running")
    environment = incus_cli_environment(resolve_endpoint(url))
    return ["env", *(f"{key}={value}" for key, value in environment.items()), *shell_command(disposable, incus)]
