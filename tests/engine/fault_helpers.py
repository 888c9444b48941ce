"""Fault injection in front of the real daemon: the first requests to one API endpoint get an Incus error
answer (as Incus words it), everything else reaches Incus. For Incus races too rare to provoke on demand."""

from __future__ import annotations

import httpx

from anklume_tui.engine.incus.client import IncusClient


class AnswersWithError(httpx.AsyncBaseTransport):
    """Answers the first `failures` requests whose path ends with `endpoint` (after the first `skip` of them)
    with HTTP `status` and `error`, passes everything else to the real transport; records the matching
    requests it saw."""

    def __init__(
        self, real: httpx.AsyncBaseTransport, endpoint: str, failures: int, error: str, status: int, skip: int = 0
    ) -> None:
        self.real, self.endpoint, self.failures, self.error, self.status = real, endpoint, failures, error, status
        self.skip = skip
        self.seen = 0
        self.sent: list[str] = []  # "<instance> <path>" of each matching request, in the order sent

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith(self.endpoint):
            return await self.real.handle_async_request(request)
        self.seen += 1
        self.sent.append(f"{request.url.path.split('/')[-2]} {request.url.params.get('path', '')}".strip())
        if not self.skip < self.seen <= self.skip + self.failures:
            return await self.real.handle_async_request(request)
        await request.aread()
        body = {"type": "error", "error": self.error, "error_code": self.status, "metadata": None}
        return httpx.Response(self.status, json=body, request=request)


def inject(
    client: IncusClient, endpoint: str, failures: int, error: str, status: int = 500, skip: int = 0
) -> AnswersWithError:
    """From now on, the client's next `failures` requests to `endpoint` (after `skip` of them) get `error`
    (replacing an earlier one)."""
    http = client._t._http
    real = http._transport.real if isinstance(http._transport, AnswersWithError) else http._transport
    http._transport = AnswersWithError(real, endpoint, failures, error, status, skip)
    return http._transport
