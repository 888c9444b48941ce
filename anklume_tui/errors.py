"""The one root of every error anklume-tui reports to a user.

Each error carries a message written for the user (it names the file, line and rule, or the object) and the
exit code CLI.md gives it. `cli.main` renders and maps them in one place; the TUI shows the same `message`.
Subclass the kind that fits (`Failed`, `Invalid`, `Unreachable`, `Refused`) rather than the root itself.
"""

from __future__ import annotations

from . import exitcodes


class AnklumeError(Exception):
    """An error a user is told about: `message` is one line for them, `exit_code` the CLI's code for it."""

    exit_code: int = exitcodes.FAILED
    prefix: str = ""  # said before the message, e.g. "Incus unreachable"

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(message, *args)
        self.message = message

    def user_message(self) -> str:
        """The line shown to the user (without the `error: ` the CLI puts before it)."""
        text = str(self) or self.__class__.__name__
        return f"{self.prefix}: {text}" if self.prefix else text


class Failed(AnklumeError):
    """An operation failed (an Incus error, an Ansible failure, a tool that said no): exit 1."""

    exit_code = exitcodes.FAILED


class Invalid(AnklumeError):
    """A usage error or an invalid input (arguments, infra, an archive): exit 2."""

    exit_code = exitcodes.INVALID


class Unreachable(AnklumeError):
    """Incus did not answer: exit 3."""

    exit_code = exitcodes.UNREACHABLE
    prefix = "Incus unreachable"


class Refused(AnklumeError):
    """Refused: a protected resource, or a destructive action without confirmation: exit 4."""

    exit_code = exitcodes.REFUSED
