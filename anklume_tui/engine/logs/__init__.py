"""collect-logs (issue 22): from every machine its journal (or syslog) since a time, its Incus log (`incus info
--show-log`), plus the last provisioning log and the apply journal, into one tar.gz written as it goes
(each piece passes through a spool file, so the archive is never whole in memory). Values that look like
secrets are redacted line by line, and counted."""

from __future__ import annotations

import contextlib
import os
import re
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ...errors import Refused
from ...printable import printable
from ...psot.model import Infra
from ...psot.scope import check_limit
from ..host import paths
from ..host.apply_lock import JOURNAL_FILE

if TYPE_CHECKING:
    from ..incus import IncusClient

# A variable named like a secret (a run of word characters holding one of these), then `=` or `:` (JSON quotes
# allowed), then its value. Found run by run, never by one pattern with a free prefix: that one backtracked over
# every start in a long run of word characters (a 40 KB line a machine logs took 150 s, a 1 MB one a day).
NAME_RUN = re.compile(r"[\w.-]+")
SECRET_NAME = re.compile(r"password|passwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential", re.I)
# A quoted value is at most 4,096 characters: an unclosed quote is not searched for to the end of the line.
SECRET_VALUE = re.compile(r"""["']?\s*[:=]\s*(?P<value>"[^"]{0,4096}"|'[^']{0,4096}'|[^\s,;}]+)""")
PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")
PEM_END = re.compile(r"-----END [A-Z0-9 ]+-----")
REDACTED = "[REDACTED]"

# The machine's journal since $1, else the end of its syslog; positional parameter, never shell text.
JOURNAL_SCRIPT = (
    'if command -v journalctl >/dev/null 2>&1; then journalctl --no-pager -o short-iso --since "$1"; '
    "elif [ -r /var/log/syslog ]; then tail -n 20000 /var/log/syslog; "
    "elif [ -r /var/log/messages ]; then tail -n 20000 /var/log/messages; "
    'else echo "no journal and no syslog in this machine" >&2; exit 1; fi'
)


class Redactor:
    """Redacts secret-looking values and whole PEM blocks, line by line; counts what it redacted."""

    def __init__(self) -> None:
        self.count = 0
        self._in_pem = False

    def line(self, text: str) -> str:
        if self._in_pem:
            if PEM_END.search(text):
                self._in_pem = False
            return ""
        begin = PEM_BEGIN.search(text)
        if begin:
            self.count += 1
            self._in_pem = not PEM_END.search(text, begin.end())
            return text[: begin.start()] + "[REDACTED PEM BLOCK]\n"
        return self._values(text)

    def _values(self, text: str) -> str:
        parts: list[str] = []
        done = 0  # text[:done] is in parts
        for run in NAME_RUN.finditer(text):
            if run.start() < done or not SECRET_NAME.search(text, run.start(), run.end()):
                continue
            found = SECRET_VALUE.match(text, run.end())
            if found is None:
                continue
            parts += [text[done : found.start("value")], REDACTED]
            done = found.end("value")
            self.count += 1
        return "".join(parts) + text[done:] if parts else text


@dataclass
class CollectedMachine:
    machine: str
    files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Collected:
    archive: Path
    machines: list[CollectedMachine]
    host_files: list[str]
    redacted: int

    def summary(self) -> str:
        """The line the verb prints and the TUI notifies."""
        files = sum(len(m.files) for m in self.machines) + len(self.host_files)
        machines = len(self.machines)
        return f"{self.archive}: {files} file(s) from {machines} machine(s); {self.redacted} value(s) redacted"


SINCE = "-1h"  # journal entries of the last hour, unless asked otherwise


def default_archive() -> Path:
    """anklume-logs-<UTC time>.tar.gz in the current folder."""
    return Path(f"anklume-logs-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.tar.gz")


def _lines(text: str) -> Iterator[str]:
    yield from text.splitlines(keepends=True)


def _file_lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        yield from handle


class _Archive:
    def __init__(self, handle: tarfile.TarFile, root: str, redactor: Redactor) -> None:
        self.tar, self.root, self.redactor = handle, root, redactor

    def add(self, name: str, lines: Iterable[str]) -> None:
        with tempfile.TemporaryFile() as spool:
            size = _spool(spool, lines, self.redactor)
            info = tarfile.TarInfo(f"{self.root}/{name}")
            info.size, info.mtime, info.mode = size, int(time.time()), 0o600
            spool.seek(0)
            self.tar.addfile(info, spool)


def _spool(spool: IO[bytes], lines: Iterable[str], redactor: Redactor) -> int:
    size = 0
    for line in lines:
        data = redactor.line(line).encode("utf-8")
        spool.write(data)
        size += len(data)
    redactor._in_pem = False  # a block left open ends with its file
    return size


async def collect_logs(
    client: IncusClient,
    infra: Infra,
    out: Path,
    *,
    limit: str | None = None,
    since: str = SINCE,
    on_machine: Callable[[CollectedMachine, int, int], None] | None = None,
) -> Collected:
    """Write the archive `out` (tar.gz); a machine whose log cannot be read gets an error line, not a crash.
    `on_machine(collected, done, total)` after each machine (the TUI's progress). The archive appears whole
    or not at all, private to the user (0600), and never over an existing file (Refused); Incus unreachable
    (IncusUnreachable) leaves nothing behind."""
    check_limit(infra, limit)
    _refuse_existing(out)
    fd, temp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            collected = await _write_archive(client, infra, raw, out, limit, since, on_machine)
            raw.flush()
            os.fsync(raw.fileno())
        try:
            os.link(temp, out)  # unlike a rename, never replaces a file made there meanwhile
        except FileExistsError:
            _refuse_existing(out)
            raise
        except OSError:  # a file system without hard links (vfat): checked again, then renamed
            _refuse_existing(out)
            os.rename(temp, out)
    finally:
        temp.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder = os.open(out.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    return collected


def _refuse_existing(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise Refused(f"{out} exists: collect-logs never writes over a file; name another archive")


async def _write_archive(
    client: IncusClient,
    infra: Infra,
    raw: IO[bytes],
    out: Path,
    limit: str | None,
    since: str,
    on_machine: Callable[[CollectedMachine, int, int], None] | None,
) -> Collected:
    from ..incus import IncusUnreachable

    redactor = Redactor()
    root = out.name.removesuffix(".tar.gz")
    machines: list[CollectedMachine] = []
    host_files: list[str] = []
    chosen = [(d, m) for d in infra.enabled_domains if limit in (None, d.name) for m in d.machines]
    with tarfile.open(str(out), mode="w:gz", fileobj=raw) as handle:  # out: the name inside, not opened
        archive = _Archive(handle, root, redactor)
        for domain, machine in chosen:
            got = CollectedMachine(machine.name)
            machines.append(got)
            try:
                log = await client.instance_log(machine.instance_name, project=domain.project, vm=machine.type == "vm")
                archive.add(f"{machine.name}/incus-info-show-log.txt", _lines(log))
                got.files.append(f"{machine.name}/incus-info-show-log.txt")
            except IncusUnreachable:  # no machine's log can be read: said once (exit 3), no empty archive
                raise
            except Exception as exc:  # one machine's missing log must not lose the others'
                got.errors.append(f"incus log: {exc}")
            try:
                done = await client.exec(
                    machine.instance_name,
                    ["sh", "-c", JOURNAL_SCRIPT, "collect", since],
                    project=domain.project,
                    timeout=120,
                )
                archive.add(f"{machine.name}/journal.txt", _lines(done.stdout + done.stderr))
                got.files.append(f"{machine.name}/journal.txt")
                if done.exit_code != 0:
                    got.errors.append(f"journal: exit {done.exit_code}: {printable(done.stderr).strip()[-200:]}")
            except IncusUnreachable:
                raise
            except Exception as exc:
                got.errors.append(f"journal: {exc}")
            if on_machine is not None:
                on_machine(got, len(machines), len(chosen))
        for path, name in (
            (paths.provision_log_file(), "provision-last.log"),
            (paths.state_dir() / JOURNAL_FILE, JOURNAL_FILE),
        ):
            if path.is_file():
                archive.add(f"host/{name}", _file_lines(path))
                host_files.append(f"host/{name}")
    return Collected(archive=out, machines=machines, host_files=host_files, redacted=redactor.count)


__all__ = ["SINCE", "Collected", "CollectedMachine", "Redactor", "collect_logs", "default_archive"]
