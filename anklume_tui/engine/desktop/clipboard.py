"""The clipboard between domains, by explicit action only (issue 21): `copy` reads one machine's clipboard
into a buffer the host holds, `paste` writes that buffer into another machine's clipboard, where the infra's
clipboard rule (psot.desktop.clipboard_verdict: CB1-CB3; CB4 below) allows it. Nothing moves on its own.

A machine's clipboard is read and written by the tools inside it (xclip or xsel for X11, wl-paste / wl-copy
for Wayland), run through Incus's exec with a fixed argv and the machine's display environment; the text goes
in through a private file the tool reads on its stdin, never through an argument, a shell word or a template.
The console's tmux buffer is the third channel: it belongs to the domain whose pane had focus last (CB4).
Every transfer, refused ones included, is one JSON line in `<state>/clipboard/transfers.jsonl`: when, which
domains and machines, how many bytes, the result. Never the content.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NoReturn, Protocol

from ...errors import Failed, Invalid, Refused
from ...printable import printable
from ...psot.desktop import ClipboardVerdict, clipboard_side, clipboard_verdict, display_env
from ...psot.model import Infra, Machine
from ..incus.client import IncusClient
from ..incus.errors import IncusError

CHANNELS = ("auto", "x11", "wayland", "tmux")
MAX_BYTES = 1024 * 1024  # a clipboard, not a file transfer (copy-file is for files)
NOT_FOUND = 127
# One fixed script: it runs the tool (its argv after the script) with the private file, named by the environment,
# on its stdin. The text itself never reaches a shell, an argument or the environment.
FROM_FILE = 'exec "$0" "$@" < "$ANKLUME_CLIPBOARD_FILE"'


class ClipboardUsage(Invalid):
    """An unknown machine, a channel the machine has no display for."""


class ClipboardRefused(Refused):
    """The infra forbids this transfer: the message names the rule and what would allow it."""

    prefix = "refused"

    def __init__(self, message: str, rule: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule


class ClipboardFailed(Failed):
    """The tool inside the machine (or tmux) failed, the clipboard was empty or too large, Incus said no."""


@dataclass(frozen=True)
class End:
    """One end of a transfer."""

    domain: str
    machine: str
    channel: str


@dataclass(frozen=True)
class Transfer:
    op: str  # copy (machine -> host buffer) | paste (host buffer -> machine)
    source: End | None
    target: End | None
    size: int
    result: str  # done | refused | failed
    rule: str | None
    reason: str


class HostBuffer(Protocol):
    def put(self, content: bytes, origin: End) -> None: ...

    def get(self) -> tuple[bytes, End] | None: ...


class MemoryBuffer:
    """The TUI's buffer: gone when the TUI ends."""

    def __init__(self) -> None:
        self._held: tuple[bytes, End] | None = None

    def put(self, content: bytes, origin: End) -> None:
        self._held = (content, origin)

    def get(self) -> tuple[bytes, End] | None:
        return self._held


class FileBuffer:
    """The batch verbs' buffer: one 0600 file in a 0700 folder of the state directory, its origin on the first
    line and the text after it, replaced atomically."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / "buffer"

    def put(self, content: bytes, origin: End) -> None:
        from ..host.private_files import open_private, private_folder

        private_folder(self.path.parent)
        tmp = self.path.with_name(f".buffer.{os.getpid()}.tmp")
        fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, json.dumps(asdict(origin)).encode() + b"\n" + content)
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(self.path)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def get(self) -> tuple[bytes, End] | None:
        try:
            head, _, content = self.path.read_bytes().partition(b"\n")
            origin = End(**json.loads(head))
        except (OSError, ValueError, TypeError):
            return None
        return content, origin

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def host_buffer() -> FileBuffer:
    """The batch verbs' buffer, in the state folder."""
    from ..host.paths import clipboard_dir

    return FileBuffer(clipboard_dir())


def clipboard_log_file() -> Path:
    """One JSON line per transfer, refused ones included; never the content."""
    from ..host.paths import clipboard_dir

    return clipboard_dir() / "transfers.jsonl"


def find_machine(infra: Infra, name: str) -> Machine:
    for machine in infra.machines:
        if machine.name == name:
            return machine
    known = ", ".join(m.name for m in infra.machines) or "none"
    raise ClipboardUsage(f"unknown machine {name!r} (the infra declares: {known})")


def machine_display_env(infra: Infra, name: str) -> dict[str, str]:
    """DISPLAY and WAYLAND_DISPLAY for programs run in the machine (empty when its domain has no display)."""
    return display_env(find_machine(infra, name).config)


def _channel(machine: Machine, asked: str) -> str:
    if asked not in CHANNELS:
        raise ClipboardUsage(f"unknown channel {asked!r} (one of {', '.join(CHANNELS)})")
    env = display_env(machine.config)
    if asked == "auto":
        if "WAYLAND_DISPLAY" in env:
            return "wayland"
        if "DISPLAY" in env:
            return "x11"
    elif asked == "tmux" or ("WAYLAND_DISPLAY" if asked == "wayland" else "DISPLAY") in env:
        return asked
    wanted = {"auto": "display", "x11": "X11 display", "wayland": "Wayland display"}[asked]
    raise ClipboardUsage(
        f"machine {machine.name} has no {wanted}: set desktop.display: true for domain {machine.domain} (with "
        "x11 / wayland in global.desktop or the domain's desktop), or use the console's buffer (--channel tmux)"
    )


def _domain(infra: Infra, name: str) -> dict[str, object]:
    for domain in infra.domains:
        if domain.name == name:
            return {"trust_level": domain.trust_level, "desktop": domain.desktop}
    return {}


def verdict(infra: Infra, source: str, target: str) -> ClipboardVerdict:
    """The clipboard rule between two of the infra's domains."""
    return clipboard_verdict(
        clipboard_side(source, _domain(infra, source)), clipboard_side(target, _domain(infra, target))
    )


def log_transfer(transfer: Transfer, log: Path) -> None:
    from ..host.private_files import append_private

    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "op": transfer.op,
        "from": asdict(transfer.source) if transfer.source else None,
        "to": asdict(transfer.target) if transfer.target else None,
        "bytes": transfer.size,
        "result": transfer.result,
        "rule": transfer.rule,
    }
    append_private(log, json.dumps(record) + "\n")


READERS = {
    "x11": (["xclip", "-selection", "clipboard", "-o"], ["xsel", "--clipboard", "--output"]),
    "wayland": (["wl-paste", "--no-newline"],),
}
WRITERS = {
    "x11": (["xclip", "-selection", "clipboard", "-i"], ["xsel", "--clipboard", "--input"]),
    "wayland": (["wl-copy"],),
}


async def _exec(client: IncusClient, machine: Machine, project: str, argv: list[str], env: dict[str, str]):
    try:
        return await client.exec(machine.instance_name, argv, project=project, env=env, timeout=60)
    except IncusError as exc:
        raise ClipboardFailed(f"machine {machine.name} ({project}/{machine.instance_name}): {exc}") from None


def _said(result) -> str:
    text = printable(result.stderr or result.stdout).strip().splitlines()
    return text[-1][:200] if text else f"exit {result.exit_code}"


async def _read_machine(client: IncusClient, machine: Machine, project: str, channel: str) -> bytes:
    env = display_env(machine.config)
    for argv in READERS[channel]:
        result = await _exec(client, machine, project, argv, env)
        if result.exit_code == NOT_FOUND:
            continue
        if not result.ok:
            raise ClipboardFailed(f"{argv[0]} in machine {machine.name} could not read its clipboard: {_said(result)}")
        return result.stdout.encode("utf-8")
    tools = " or ".join(argv[0] for argv in READERS[channel])
    raise ClipboardFailed(f"machine {machine.name} has no {tools} to read its {channel} clipboard (install it)")


async def _write_machine(client: IncusClient, machine: Machine, project: str, channel: str, content: bytes) -> None:
    """The text into a private file of the machine, read by the tool on its stdin (FROM_FILE), then removed."""
    path = f"/tmp/.anklume-clipboard-{secrets.token_hex(8)}"
    try:
        await client.push_file(machine.instance_name, path, content, project=project, mode=0o600)
    except IncusError as exc:
        raise ClipboardFailed(f"machine {machine.name} ({project}/{machine.instance_name}): {exc}") from None
    env = {**display_env(machine.config), "ANKLUME_CLIPBOARD_FILE": path}
    try:
        for argv in WRITERS[channel]:
            result = await _exec(client, machine, project, ["sh", "-c", FROM_FILE, *argv], env)
            if result.exit_code == NOT_FOUND:
                continue
            if not result.ok:
                raise ClipboardFailed(
                    f"{argv[0]} in machine {machine.name} could not set its clipboard: {_said(result)}"
                )
            return
        tools = " or ".join(argv[0] for argv in WRITERS[channel])
        raise ClipboardFailed(f"machine {machine.name} has no {tools} to set its {channel} clipboard (install it)")
    finally:
        await _exec(client, machine, project, ["rm", "-f", path], {})


@dataclass
class Console:
    """The tmux server whose buffer is the console channel, and the file naming the domain it belongs to."""

    socket_name: str | None = None
    last_domain_file: Path | None = None

    def _parts(self):
        from ..console import tmux_server
        from ..host.paths import tmux_last_domain_file

        return tmux_server(self.socket_name), self.last_domain_file or tmux_last_domain_file()


async def copy_from_machine(
    client: IncusClient,
    infra: Infra,
    name: str,
    buffer: HostBuffer,
    log: Path,
    *,
    channel: str = "auto",
    console: Console | None = None,
) -> Transfer:
    """Read the machine's clipboard into `buffer`; refused when its domain lets nothing out (CB1)."""
    machine = find_machine(infra, name)
    used = _channel(machine, channel)
    source = End(machine.domain, machine.name, used)
    side = clipboard_side(machine.domain, _domain(infra, machine.domain))
    if not side.copy:
        reason = f"domain '{machine.domain}' sets desktop.clipboard.copy: false (nothing is copied out)"
        _refuse(Transfer("copy", source, None, 0, "refused", "CB1", reason), log)
    try:
        if used == "tmux":
            content = _read_console(machine, console or Console(), source, log)
        else:
            content = await _read_machine(client, machine, _project(infra, machine), used)
        if len(content) > MAX_BYTES:
            raise ClipboardFailed(f"the clipboard of {machine.name} holds {len(content)} bytes, more than {MAX_BYTES}")
    except ClipboardFailed as exc:
        log_transfer(Transfer("copy", source, None, 0, "failed", None, exc.message), log)
        raise
    buffer.put(content, source)
    done = Transfer("copy", source, None, len(content), "done", None, f"from {machine.name} ({machine.domain})")
    log_transfer(done, log)
    return done


async def paste_into_machine(
    client: IncusClient,
    infra: Infra,
    name: str,
    buffer: HostBuffer,
    log: Path,
    *,
    channel: str = "auto",
    console: Console | None = None,
) -> Transfer:
    """Write `buffer` into the machine's clipboard, where the clipboard rule allows it (CB1-CB3)."""
    machine = find_machine(infra, name)
    used = _channel(machine, channel)
    target = End(machine.domain, machine.name, used)
    held = buffer.get()
    if held is None:
        raise ClipboardUsage("the host buffer is empty: copy from a machine first (clipboard copy MACHINE)")
    content, source = held
    ruling = verdict(infra, source.domain, machine.domain)
    if not ruling.allowed:
        _refuse(Transfer("paste", source, target, len(content), "refused", ruling.rule, ruling.reason), log)
    try:
        if used == "tmux":
            server, last = (console or Console())._parts()
            try:
                from ..console import load_console_buffer

                load_console_buffer(server, content, machine.domain, last)
            except OSError as exc:
                raise ClipboardFailed(f"the console's buffer: {exc}") from None
        else:
            await _write_machine(client, machine, _project(infra, machine), used, content)
    except ClipboardFailed as exc:
        log_transfer(Transfer("paste", source, target, len(content), "failed", None, exc.message), log)
        raise
    done = Transfer("paste", source, target, len(content), "done", None, ruling.reason)
    log_transfer(done, log)
    return done


def _refuse(transfer: Transfer, log: Path) -> NoReturn:
    log_transfer(transfer, log)
    raise ClipboardRefused(f"clipboard {transfer.op} [{transfer.rule}]: {transfer.reason}", transfer.rule)


def _read_console(machine: Machine, console: Console, source: End, log: Path) -> bytes:
    from ..console import read_console_buffer

    server, last = console._parts()
    held = read_console_buffer(server, last)
    if held is None:
        raise ClipboardFailed("the console holds no buffer: copy in a pane first (tmux copy mode)")
    if held.domain != machine.domain:
        owner = f"domain '{held.domain}'" if held.domain else "no known domain"
        reason = (
            f"the console's buffer belongs to {owner} (its pane had focus last), not to '{machine.domain}' "
            f"of machine {machine.name}"
        )
        _refuse(Transfer("copy", source, None, 0, "refused", "CB4", reason), log)
    return held.content


def _project(infra: Infra, machine: Machine) -> str:
    return next(d.project for d in infra.domains if d.name == machine.domain)
