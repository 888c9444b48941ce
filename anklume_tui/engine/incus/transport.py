"""How to reach Incus: the request/operation core over httpx (where Incus is: endpoint.py; errors: errors.py).

Every HTTP request to Incus goes through `IncusTransport` (but the few GETs quick_read.py sends before httpx is
imported); `incus.IncusClient` builds the API on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

# Where they were (endpoint.py, errors.py), for the callers that import them from here.
from .endpoint import Endpoint as Endpoint
from .endpoint import resolve_endpoint as resolve_endpoint
from .errors import IncusError as IncusError
from .errors import IncusNotFound as IncusNotFound
from .errors import IncusTimeout as IncusTimeout
from .errors import IncusUnreachable as IncusUnreachable
from .errors import IncusUrlError as IncusUrlError

if TYPE_CHECKING:  # imported with the first request on a unix socket: a no-op apply sends none (issue 17)
    import httpx

T = TypeVar("T")


async def tried_again(
    attempt: Callable[[], Awaitable[T]], *, when: Callable[[IncusError], bool], delays: Sequence[float]
) -> T:
    """`attempt()`, tried again after each of `delays` seconds while it fails with an error `when` calls
    passing (a known Incus race, not the request's fault); the last failure is raised as it came."""
    for delay in (*delays, None):
        try:
            return await attempt()
        except IncusError as exc:
            if delay is None or not when(exc):
                raise
        await asyncio.sleep(delay)
    raise AssertionError("unreachable: the last try returns or raises")


NOT_READY_DELAYS = (0.2, 0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 5.0)  # ~15 s for a member that came back to be ready


def q(name: str) -> str:
    """One URL path segment."""
    return quote(name, safe="")


class IncusTransport:
    """HTTP to one Incus endpoint; counts requests, maps failures to our exceptions, waits on operations."""

    def __init__(self, endpoint: Endpoint, *, timeout: float = 30.0, operation_timeout: float = 120.0) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.operation_timeout = operation_timeout
        self.requests = 0
        self._client: httpx.AsyncClient | None = None
        if not endpoint.is_unix:  # the TLS files are loaded, and their errors said, as the client is made
            self._client = self._connected()

    def _connected(self) -> httpx.AsyncClient:
        import ssl

        import httpx

        if self.endpoint.is_unix:
            # No TLS on a unix socket: skipping the CA bundle saves ~0.1 s on every start.
            transport = httpx.AsyncHTTPTransport(uds=self.endpoint.socket, verify=False)
        else:
            try:
                transport = httpx.AsyncHTTPTransport(verify=self.endpoint.ssl_context())
            except (OSError, ssl.SSLError) as exc:
                raise IncusUnreachable(f"cannot load the TLS files for {self.endpoint.url}: {exc}") from None
        return httpx.AsyncClient(transport=transport, base_url=self.endpoint.base_url, timeout=self.timeout)

    @property
    def _http(self) -> httpx.AsyncClient:
        """httpx's client, made (and httpx imported) with the first request on a unix socket."""
        if self._client is None:
            self._client = self._connected()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _unreachable(self, what: str, method: str, path: str) -> IncusUnreachable:
        return IncusUnreachable(f"Incus at {self.endpoint.url} {what}", method=method, path=path)

    async def send(
        self,
        method: str,
        path: str,
        *,
        project: str | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | AsyncIterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """One HTTP request; raises IncusError (or a subclass) unless the answer is a success. `content`
        may be an async iterable of chunks: the body is then streamed (uploads of any size)."""
        params = dict(params or {})
        if project is not None:
            params["project"] = project
        shown = _shown(path, project)
        self._check_socket(method, shown)
        self.requests += 1
        with self._translated(method, shown, timeout):
            response = await self._http.request(
                method,
                path,
                params=params,
                json=json,
                content=content,
                headers=headers,
                timeout=timeout or self.timeout,
            )
        if response.status_code >= 400:
            raise _error_from(response, method, shown)
        return response

    @contextlib.asynccontextmanager
    async def stream(
        self, method: str, path: str, *, project: str | None = None, params: dict[str, Any] | None = None
    ) -> AsyncIterator[httpx.Response]:
        """A request whose answer body is read as it arrives (downloads of any size); failures while
        reading it raise as in `send`. The timeout bounds each wait for data, not the whole transfer."""
        shown = _shown(path, project)
        self._check_socket(method, shown)
        self.requests += 1
        params = dict(params or {})
        if project is not None:
            params["project"] = project
        request = self._http.build_request(method, path, params=params)
        with self._translated(method, shown, None):
            response = await self._http.send(request, stream=True)
            try:
                if response.status_code >= 400:
                    await response.aread()
                    raise _error_from(response, method, shown)
                yield response
            finally:
                await response.aclose()

    def _check_socket(self, method: str, shown: str) -> None:
        if self.endpoint.is_unix and not os.path.exists(self.endpoint.socket or ""):
            raise self._unreachable("is not running: the socket does not exist", method, shown)

    @contextlib.contextmanager
    def _translated(self, method: str, shown: str, timeout: float | None) -> Iterator[None]:
        """httpx failures as our exceptions, with the request they belong to."""
        import httpx

        try:
            yield
        except httpx.ConnectError as exc:
            raise self._unreachable(f"could not be reached ({_reason(exc)})", method, shown) from None
        except httpx.ConnectTimeout:
            raise self._unreachable("did not accept the connection in time", method, shown) from None
        except httpx.TimeoutException:
            raise IncusTimeout(
                f"Incus did not answer within {timeout or self.timeout:g} s", method=method, path=shown
            ) from None
        except httpx.TransportError as exc:
            raise self._unreachable(f"closed the connection mid-request ({_reason(exc)})", method, shown) from None

    async def call(
        self,
        method: str,
        path: str,
        *,
        project: str | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | AsyncIterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        wait: bool = True,
        timeout: float | None = None,
    ) -> Any:
        """A JSON API call: the sync answer's metadata, or, for a background operation, the finished
        operation's metadata (unless wait=False: then the operation as started)."""
        response = await self.send(
            method, path, project=project, params=params, json=json, content=content, headers=headers
        )
        body = _json(response, method, path, project)
        if body.get("type") == "async" and wait:
            return await self.wait_operation(
                body.get("operation", ""), method=method, path=_shown(path, project), timeout=timeout
            )
        return body.get("metadata")

    async def wait_operation(
        self, operation: str, *, method: str = "", path: str = "", timeout: float | None = None
    ) -> dict[str, Any]:
        """Block (server side) until the operation ends; failures raise with the operation's error."""
        timeout = timeout or self.operation_timeout
        op_id = operation.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        # An operation on a cluster member that has just come back: the member can start it, and for a few
        # seconds more answer its wait with 'Server isn't ready yet'. The wait is asked again meanwhile.
        response = await tried_again(
            lambda: self.send(
                "GET",
                f"/1.0/operations/{q(op_id)}/wait",
                params={"timeout": max(1, round(timeout))},
                timeout=timeout + 15,
            ),
            when=lambda exc: "isn't ready yet" in exc.message,
            delays=NOT_READY_DELAYS,
        )
        # A failed operation comes back as HTTP 200 with an error document: reported against the
        # request that started it.
        op = _json(response, method, path).get("metadata") or {}
        status = int(op.get("status_code") or 0)
        if status == 200:
            return op
        if status < 200:
            raise IncusTimeout(
                f"operation still {op.get('status', 'running').lower()} after {timeout:g} s", method=method, path=path
            )
        message = op.get("err") or f"operation {op.get('status', 'failed').lower()}"
        raise IncusError(message, status=status, method=method, path=path)


def _shown(path: str, project: str | None) -> str:
    """The path as messages show it: with the project, which Incus's own messages often omit."""
    return path + (f"?project={project}" if project is not None else "")


def _reason(exc: Exception) -> str:
    cause: BaseException | None = exc
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    text = str(cause or exc) or type(exc).__name__
    return text.splitlines()[0]


def _json(response: httpx.Response, method: str, path: str, project: str | None = None) -> dict[str, Any]:
    """The JSON document of a successful HTTP answer; an error document inside it raises."""
    shown = _shown(path, project)
    try:
        body = response.json()
    except ValueError:
        raise IncusError(
            "Incus answered with something other than JSON", status=response.status_code, method=method, path=shown
        ) from None
    if not isinstance(body, dict):
        raise IncusError(
            "Incus answered with an unexpected JSON document", status=response.status_code, method=method, path=shown
        )
    if body.get("type") == "error":
        code = int(body.get("error_code") or 0) or None
        kind = IncusNotFound if code == 404 else IncusError
        raise kind(body.get("error") or "request failed", status=code, method=method, path=shown)
    return body


def _error_from(response: httpx.Response, method: str, path: str) -> IncusError:
    message = ""
    with contextlib.suppress(ValueError, AttributeError):
        message = response.json().get("error") or ""
    message = message or response.reason_phrase or "request failed"
    kind = IncusNotFound if response.status_code == 404 else IncusError
    return kind(message, status=response.status_code, method=method, path=path)
