"""Instance calls of the Incus client: lifecycle, state, snapshots and exec (mixed into
`incus.IncusClient`; every request goes through its transport)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from anklume_tui.engine.incus.errors import IncusError, IncusNotFound
from anklume_tui.engine.incus.models import ExecResult, Instance, InstanceState, InstanceWithState, Snapshot
from anklume_tui.engine.incus.transport import IncusTransport, q

Devices = Mapping[str, Mapping[str, str]]
# Incus fails an exec operation with these messages instead of reporting the shell's exit codes.
EXEC_FAILURE_CODES = {"Command not found": 127, "Permission denied": 126}


def some(**fields: Any) -> dict[str, Any]:
    """A PATCH body: only the fields the caller gave."""
    return {k: v for k, v in fields.items() if v is not None}


class InstanceCalls:
    _t: IncusTransport

    # Instances

    async def list_instances(self, *, project: str | None = None) -> list[Instance]:
        """Every instance of one project, or of all projects when project is None: one request either way."""
        params: dict[str, Any] = {"recursion": 1}
        if project is None:
            params["all-projects"] = "true"
        found = await self._t.call("GET", "/1.0/instances", project=project, params=params)
        return [Instance.model_validate(i) for i in found]

    async def list_instances_with_state(self) -> list[InstanceWithState]:
        """Every instance of every project with its live state (CPU, memory, network) and its snapshots: one
        request, in which Incus reads the state of each running instance (about 3 ms each)."""
        found = await self._t.call("GET", "/1.0/instances", params={"recursion": 2, "all-projects": "true"})
        return [InstanceWithState.model_validate(i) for i in found]

    async def get_instance(self, name: str, *, project: str = "default") -> Instance:
        found = await self._t.call("GET", f"/1.0/instances/{q(name)}", project=project)
        return Instance.model_validate(found)

    async def instance_state(self, name: str, *, project: str = "default") -> InstanceState:
        found = await self._t.call("GET", f"/1.0/instances/{q(name)}/state", project=project)
        return InstanceState.model_validate(found)

    async def create_instance(
        self,
        name: str,
        *,
        project: str = "default",
        image: str | None = None,
        source: Mapping[str, Any] | None = None,
        type: str = "container",
        profiles: Sequence[str] | None = None,
        config: Mapping[str, str] | None = None,
        devices: Devices | None = None,
        ephemeral: bool = False,
        description: str = "",
        start: bool = False,
        timeout: float | None = None,
        target: str | None = None,
    ) -> None:
        """Create from a local image alias (`image=`) or any Incus `source`; with `start`, Incus starts it in
        the same operation (API extension instance_create_start): one request and one wait for both. On a
        cluster, `target` places it on a member or `@group` (else Incus's scheduler does)."""
        if source is None:
            source = {"type": "image", "alias": image} if image else {"type": "none"}
        body: dict[str, Any] = {
            "name": name,
            "type": type,
            "source": dict(source),
            "config": dict(config or {}),
            "devices": {k: dict(v) for k, v in (devices or {}).items()},
            "ephemeral": ephemeral,
            "description": description,
            "start": start,
        }
        if profiles is not None:
            body["profiles"] = list(profiles)
        params = {"target": target} if target else None
        await self._t.call("POST", "/1.0/instances", project=project, json=body, timeout=timeout, params=params)

    async def update_instance(
        self,
        name: str,
        *,
        project: str = "default",
        config: Mapping[str, str],
        devices: Devices,
        profiles: Sequence[str],
        ephemeral: bool = False,
        description: str = "",
    ) -> None:
        """Replace the instance's writable state. Incus refuses to lose `volatile.*` keys: start
        from `get_instance(...).config`. To set a few keys, use patch_instance."""
        body = {
            "config": dict(config),
            "devices": {k: dict(v) for k, v in devices.items()},
            "profiles": list(profiles),
            "ephemeral": ephemeral,
            "description": description,
        }
        await self._t.call("PUT", f"/1.0/instances/{q(name)}", project=project, json=body)

    async def patch_instance(
        self,
        name: str,
        *,
        project: str = "default",
        config: Mapping[str, str] | None = None,
        devices: Devices | None = None,
        profiles: Sequence[str] | None = None,
        ephemeral: bool | None = None,
        description: str | None = None,
    ) -> None:
        body = some(
            config=dict(config) if config is not None else None,
            devices={k: dict(v) for k, v in devices.items()} if devices is not None else None,
            profiles=list(profiles) if profiles is not None else None,
            ephemeral=ephemeral,
            description=description,
        )
        await self._t.call("PATCH", f"/1.0/instances/{q(name)}", project=project, json=body)

    async def delete_instance(self, name: str, *, project: str = "default") -> None:
        await self._t.call("DELETE", f"/1.0/instances/{q(name)}", project=project)

    async def change_state(
        self,
        name: str,
        action: str,
        *,
        project: str = "default",
        force: bool = False,
        timeout: float = 30,
        stateful: bool = False,
    ) -> None:
        """start, stop, restart, freeze or unfreeze; waits for the end (timeout, in seconds, is Incus's
        grace period for a clean stop; force kills at once)."""
        if action not in {"start", "stop", "restart", "freeze", "unfreeze"}:
            raise ValueError(f"unknown instance action {action!r}")
        body = {"action": action, "timeout": int(timeout), "force": force, "stateful": stateful}
        await self._t.call("PUT", f"/1.0/instances/{q(name)}/state", project=project, json=body, timeout=timeout + 30)

    # Snapshots

    async def list_snapshots(self, name: str, *, project: str = "default") -> list[Snapshot]:
        found = await self._t.call(
            "GET", f"/1.0/instances/{q(name)}/snapshots", project=project, params={"recursion": 1}
        )
        return [Snapshot.model_validate(s) for s in found]

    async def create_snapshot(
        self,
        name: str,
        snapshot: str,
        *,
        project: str = "default",
        stateful: bool = False,
        expires_at: datetime | None = None,
    ) -> None:
        body: dict[str, Any] = {"name": snapshot, "stateful": stateful}
        if expires_at is not None:
            body["expires_at"] = expires_at.isoformat()
        await self._t.call("POST", f"/1.0/instances/{q(name)}/snapshots", project=project, json=body)

    async def restore_snapshot(self, name: str, snapshot: str, *, project: str = "default") -> None:
        await self._t.call("PUT", f"/1.0/instances/{q(name)}", project=project, json={"restore": snapshot})

    async def delete_snapshot(self, name: str, snapshot: str, *, project: str = "default") -> None:
        await self._t.call("DELETE", f"/1.0/instances/{q(name)}/snapshots/{q(snapshot)}", project=project)

    # Inside instances

    async def exec(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        project: str = "default",
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        user: int | None = None,
        group: int | None = None,
        timeout: float | None = None,
        output: bool = True,
    ) -> ExecResult:
        """Run a command to completion (no stdin); its exit code and recorded stdout/stderr (with
        `output=False` the output is dropped, sparing the requests that fetch and delete its logs)."""
        if not cmd:
            raise ValueError("exec needs a command")
        body: dict[str, Any] = {
            "command": list(cmd),
            "environment": dict(env or {}),
            "wait-for-websocket": False,
            "interactive": False,
            "record-output": output,
        }
        body.update(some(cwd=cwd, user=user, group=group))
        try:
            op = await self._t.call(
                "POST", f"/1.0/instances/{q(name)}/exec", project=project, json=body, timeout=timeout
            )
        except IncusError as exc:
            if exc.message in EXEC_FAILURE_CODES and exc.status == 400:
                return ExecResult(exit_code=EXEC_FAILURE_CODES[exc.message], stderr=exc.message + "\n")
            raise
        meta = op.get("metadata") or {}
        logs = meta.get("output") or {}
        out = {fd: await self._read_log(logs[fd], project=project) if fd in logs else "" for fd in ("1", "2")}
        return ExecResult(exit_code=int(meta.get("return", -1)), stdout=out["1"], stderr=out["2"])

    async def instance_log(self, name: str, *, project: str = "default", vm: bool = False) -> str:
        """What `incus info --show-log` shows: the instance's lxc.log (qemu.log for a VM)."""
        path = f"/1.0/instances/{q(name)}/logs/{'qemu.log' if vm else 'lxc.log'}"
        return (await self._t.send("GET", path, project=project)).content.decode("utf-8", "replace")

    async def _read_log(self, log_path: str, *, project: str) -> str:
        path = log_path.split("?", 1)[0]
        text = (await self._t.send("GET", path, project=project)).content.decode("utf-8", "replace")
        with contextlib.suppress(IncusNotFound):
            await self._t.send("DELETE", path, project=project)
        return text
