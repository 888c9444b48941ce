"""What can go wrong talking to Incus, as exceptions under the one error root (anklume_tui/errors.py).

Standard library only, like endpoint.py: code that only names these (most of the engine, the quick reads of
quick_read.py) does not import httpx and asyncio with the transport (issue 17)."""

from __future__ import annotations

from ...errors import Failed, Invalid, Unreachable


class IncusError(Failed):
    """Incus answered with an error, or an operation failed. `str()` is a one-line message; `message` is
    Incus's own words, without the request."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "", path: str = "") -> None:
        self.status = status
        self.method = method
        self.path = path
        super().__init__(self._render(message))
        self.message = message

    def __str__(self) -> str:
        return self._render(self.message)

    def _render(self, message: str) -> str:
        context = [f"{self.method} {self.path}".strip()] if self.method or self.path else []
        if self.status:
            context.append(f"HTTP {self.status}")
        return f"{message} ({', '.join(context)})" if context else message


class IncusNotFound(IncusError):
    """The object does not exist (HTTP 404)."""


class IncusUnreachable(IncusError):
    """No answer from Incus: socket missing, connection refused, or the daemon went away mid-request.

    A subclass of IncusError, so catch it first where it is told apart (the CLI's exit code 3)."""

    exit_code = Unreachable.exit_code
    prefix = Unreachable.prefix


class IncusTimeout(IncusError):
    """An operation did not finish within the time allowed."""


class IncusUrlError(Invalid, ValueError):
    """The Incus URL given (`--incus` or `$ANKLUME_INCUS`) is not one we can use."""
