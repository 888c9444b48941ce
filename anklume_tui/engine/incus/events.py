"""The Incus event stream (`/1.0/events`, a websocket): lifecycle and operation events as dicts.

Reconnecting is the caller's business: when the daemon goes away the stream raises IncusUnreachable.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from anklume_tui.engine.incus.errors import IncusError, IncusUnreachable

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from anklume_tui.engine.incus.transport import IncusTransport

Event = dict[str, Any]


class EventStream:
    """Async iterator of events; `async with` connects on entry and closes on exit."""

    def __init__(self, transport: IncusTransport, params: dict[str, str], *, open_timeout: float = 10) -> None:
        self._t = transport
        self._path = f"/1.0/events?{urlencode(params)}"
        self._open_timeout = open_timeout
        self._ws: ClientConnection | None = None
        self._closed = False

    async def connect(self) -> EventStream:
        """Open the websocket (once). Events that happen after this returns are delivered."""
        if self._ws is not None:
            return self
        # websockets is imported by the code that opens a stream, not by every user of the client (issue 17)
        import websockets
        from websockets.asyncio.client import connect, unix_connect

        endpoint = self._t.endpoint
        if endpoint.is_unix and not os.path.exists(endpoint.socket or ""):
            raise IncusUnreachable(
                f"Incus at {endpoint.url} is not running: the socket does not exist", method="GET", path=self._path
            )
        self._t.requests += 1
        try:
            if endpoint.is_unix:
                self._ws = await unix_connect(
                    endpoint.socket, uri=f"ws://incus{self._path}", open_timeout=self._open_timeout, max_size=None
                )
            else:
                uri = "wss://" + endpoint.url.removeprefix("https://") + self._path
                self._ws = await connect(
                    uri, ssl=endpoint.ssl_context(), open_timeout=self._open_timeout, max_size=None
                )
        except websockets.InvalidStatus as exc:
            raise IncusError(
                "Incus refused the event stream", status=exc.response.status_code, method="GET", path=self._path
            ) from None
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            raise IncusUnreachable(
                f"Incus at {endpoint.url} refused the event stream ({exc})", method="GET", path=self._path
            ) from None
        return self

    async def aclose(self) -> None:
        self._closed = True
        if self._ws is not None:
            await self._ws.close()

    async def __aenter__(self) -> EventStream:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        if self._closed:
            raise StopAsyncIteration
        await self.connect()
        assert self._ws is not None
        import websockets  # imported by connect()

        try:
            message = await self._ws.recv()
        except websockets.ConnectionClosed:
            if self._closed:
                raise StopAsyncIteration from None
            raise IncusUnreachable(
                f"Incus at {self._t.endpoint.url} closed the event stream", method="GET", path=self._path
            ) from None
        event: Event = json.loads(message)
        return event

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float) -> Event:
        """The first event that satisfies predicate; TimeoutError after timeout seconds."""

        async def first() -> Event:
            async for event in self:
                if predicate(event):
                    return event
            raise IncusUnreachable("the event stream ended", method="GET", path=self._path)

        return await asyncio.wait_for(first(), timeout)
