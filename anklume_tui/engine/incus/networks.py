"""Networks (the domains' bridges): list, read, create, change and delete them, tried again when a host interface
vanishes meanwhile (mixed into `IncusClient`; every request goes through its transport)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from anklume_tui.engine.incus.errors import IncusError
from anklume_tui.engine.incus.instances import some
from anklume_tui.engine.incus.models import (
    Network,
)
from anklume_tui.engine.incus.transport import IncusTransport, q, tried_again

# Setting a bridge up or down, Incus 6.0 lists the host's interfaces then asks `ip` about each to find the
# bridge's ports: an interface gone in between (a container starting moves its veth peer away) fails the
# request with "Failed to delete bridge children interfaces: ... Device "vethX" does not exist", and Incus
# undoes it. Such a request is tried again after these seconds: nine tries over ~15 s, so that containers
# starting one after another around a bridge (each a chance of the race) do not fail an apply.
BRIDGE_RETRY_DELAYS = (0.2, 0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 5.0)


def lost_bridge_port(exc: IncusError) -> bool:
    """Incus's answer when an interface vanished while it looked for a bridge's ports (see above)."""
    return "bridge children interfaces" in exc.message and "does not exist" in exc.message


class NetworkCalls:
    _t: IncusTransport

    async def list_networks(self, *, project: str = "default") -> list[Network]:
        found = await self._t.call("GET", "/1.0/networks", project=project, params={"recursion": 1})
        return [Network.model_validate(n) for n in found]

    async def get_network(self, name: str, *, project: str = "default") -> Network:
        return Network.model_validate(await self._t.call("GET", f"/1.0/networks/{q(name)}", project=project))

    async def create_network(
        self,
        name: str,
        *,
        type: str = "bridge",
        config: Mapping[str, str] | None = None,
        description: str = "",
        project: str = "default",
        members: Sequence[str] = (),
    ) -> None:
        """On a cluster (`members`: every member's name), Incus wants the network pending on each member first
        (`?target=MEMBER`, member-specific keys only), then created cluster-wide with its config. A cluster-wide
        create that failed on a member (the bridge-port race) leaves it partly made: Incus then wants it run again
        without the config, which it kept."""
        for member in members:
            pending = {"name": name, "type": type, "config": {}}
            params = {"target": member}
            await self._t.call("POST", "/1.0/networks", project=project, json=pending, params=params)
        body = {"name": name, "type": type, "config": dict(config or {}), "description": description}
        again = {"name": name, "type": type, "config": {}}

        async def attempt() -> object:
            try:
                return await self._t.call("POST", "/1.0/networks", project=project, json=body)
            except IncusError as exc:
                if not members or "partially created" not in exc.message:
                    raise
            return await self._t.call("POST", "/1.0/networks", project=project, json=again)

        await self._bridge_call(attempt)

    async def update_network(
        self, name: str, *, config: Mapping[str, str], description: str = "", project: str = "default"
    ) -> None:
        body = {"config": dict(config), "description": description}
        await self._bridge_call(lambda: self._t.call("PUT", f"/1.0/networks/{q(name)}", project=project, json=body))

    async def patch_network(
        self,
        name: str,
        *,
        config: Mapping[str, str] | None = None,
        description: str | None = None,
        project: str = "default",
    ) -> None:
        body = some(config=dict(config) if config is not None else None, description=description)
        await self._bridge_call(lambda: self._t.call("PATCH", f"/1.0/networks/{q(name)}", project=project, json=body))

    async def delete_network(self, name: str, *, project: str = "default") -> None:
        await self._bridge_call(lambda: self._t.call("DELETE", f"/1.0/networks/{q(name)}", project=project))

    async def _bridge_call(self, attempt: Callable[[], Awaitable[object]]) -> None:
        await tried_again(attempt, when=lost_bridge_port, delays=BRIDGE_RETRY_DELAYS)
