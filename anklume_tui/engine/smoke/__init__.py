"""Smoke checks (issue 22): every declared check of every machine run where it makes sense, in parallel.

A command runs inside its machine; a TCP or HTTP check runs inside the machine (against itself) or, when it
names `from:`, inside that other machine against this one, so it also proves the isolation policy. Everything
goes through Incus exec; check values are passed as argv (positional parameters of a fixed script), never as
shell text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import Invalid
from ...printable import printable
from ...psot.checks import Check, parse_checks
from ...psot.findings import Location
from ...psot.model import Infra, Machine
from ...psot.scope import check_limit
from ...psot.yaml_nodes import decode, parse_yaml
from ...reports.smoke import CheckResultOut, MachineChecksOut, SmokeReport
from ..host import paths

if TYPE_CHECKING:
    from ..incus import IncusClient

ROLE_CHECKS = Path("meta") / "anklume_checks.yml"

# bash's /dev/tcp where bash exists (Debian), else nc (busybox); $1 host, $2 port, $3 seconds.
TCP_SCRIPT = (
    'if command -v bash >/dev/null 2>&1; then exec timeout "$3" bash -c \'exec 3<>"/dev/tcp/$1/$2"\' _ "$1" "$2"; '
    'elif command -v nc >/dev/null 2>&1; then exec nc -w "$3" "$1" "$2" </dev/null >/dev/null; '
    'else echo "neither bash nor nc to open a TCP connection" >&2; exit 127; fi'
)
# The HTTP status on stdout: curl's where it exists; else wget's (busybox or GNU), which says the status of a
# failure and reads a success as 200. Neither -S nor -T: busybox 1.35's wget crashes on them (timeout limits
# the time). $1 URL (validated to start with http:// or https://, so never an option), $2 seconds.
HTTP_SCRIPT = (
    "if command -v curl >/dev/null 2>&1; then "
    'curl -s -o /dev/null -w \'%{http_code}\' --max-time "$2" -- "$1"; '
    'elif command -v wget >/dev/null 2>&1; then t=; command -v timeout >/dev/null 2>&1 && t="timeout $2"; '
    'out=$($t wget -q -O /dev/null "$1" 2>&1); rc=$?; '
    'if [ "$rc" = 0 ]; then echo 200; else printf "%s\\n" "$out" >&2; printf "%s\\n" "$out" | '
    "sed -n 's/.*HTTP\\/[0-9.]* \\([0-9][0-9][0-9]\\).*/\\1/p; s/.*ERROR \\([0-9][0-9][0-9]\\).*/\\1/p' "
    "| tail -n 1; fi; "
    'else echo "neither curl nor wget to fetch a URL" >&2; exit 127; fi'
)


@dataclass(frozen=True)
class Declared:
    machine: Machine
    check: Check
    declared_by: str


def role_name(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        found = entry.get("role", entry.get("name"))
        return found if isinstance(found, str) else None
    return None


def role_checks(role: str, folders: list[Path], machines: set[str]) -> list[Check]:
    """The checks a role declares in meta/anklume_checks.yml (first folder holding the role wins); data only."""
    for folder in folders:
        path = folder / role / ROLE_CHECKS
        if not (folder / role).is_dir():
            continue
        if not path.is_file():
            return []
        # psot's bounded parser (an alias bomb is refused, not expanded), which also says where each value sits
        try:
            text, undecodable = decode(path.read_bytes(), str(path))
        except OSError as exc:
            raise Invalid(f"{path}: cannot read the role's checks: {exc.strerror or exc}") from None
        parsed = parse_yaml(text, str(path)) if text is not None else None
        if undecodable is not None or parsed is None or parsed.findings:
            finding = undecodable or (parsed.findings[0] if parsed else None)
            raise Invalid(finding.render(str(path)) if finding else f"{path}: not readable as YAML")
        checks, problems = parse_checks(parsed.data if parsed.data is not None else [], machines)
        if problems:
            first = problems[0]
            where = parsed.source.at(first.path) or Location(str(path), 1, 1)
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise Invalid(f"{where}: error[{first.rule}]: {first.message}{more}")
        return checks
    return []


def declared_checks(infra: Infra, tree: Path, limit: str | None = None) -> list[Declared]:
    """Every check of the machines of the enabled domains (or of `limit`): the infra's, then each role's."""
    check_limit(infra, limit)
    names = {m.name for m in infra.machines}
    folders = paths.role_folders(tree)
    cache: dict[str, list[Check]] = {}
    out: list[Declared] = []
    for domain in infra.enabled_domains:
        if limit not in (None, domain.name):
            continue
        for machine in domain.machines:
            if machine.checks is not None:
                checks, problems = parse_checks(machine.checks, names)
                if problems:  # validation refuses these first (K1-K5); kept for a model built otherwise
                    raise Invalid(f"Machine '{machine.name}': {problems[0].rule} {problems[0].message}")
                out += [Declared(machine, c, "infra") for c in checks]
            for entry in machine.roles or ():
                role = role_name(entry)
                if role is None:
                    continue
                if role not in cache:
                    cache[role] = role_checks(role, folders, names)
                out += [Declared(machine, c, f"role {role}") for c in cache[role]]
    return out


async def _run_one(client: IncusClient, infra: Infra, item: Declared) -> CheckResultOut:
    check, machine = item.check, item.machine
    where = machine if check.source is None else next(m for m in infra.machines if m.name == check.source)
    project = next(d.project for d in infra.domains if d.name == where.domain)
    if check.kind == "command":
        argv: list[str] = list(check.command)
    elif check.kind == "tcp":
        host = check.host or ("127.0.0.1" if check.source is None else machine.ip)
        if host is None:
            return _result(item, where, False, f"{machine.name} has no known address to reach from {where.name}")
        argv = ["sh", "-c", TCP_SCRIPT, "smoke-tcp", host, str(check.port), str(check.timeout)]
    else:
        argv = ["sh", "-c", HTTP_SCRIPT, "smoke-http", check.url, str(check.timeout)]
    from ..incus import IncusUnreachable

    try:
        done = await client.exec(where.instance_name, argv, project=project, timeout=check.timeout + 30)
    except IncusUnreachable:  # no check can run: said once (exit 3), not as every check failing
        raise
    except Exception as exc:  # an Incus refusal (machine stopped, missing) is this check's failure, not a crash
        return _result(item, where, False, f"could not run in {where.instance_name}: {exc}")
    output = (done.stdout + done.stderr).strip()
    if check.kind == "command":
        ok = done.exit_code == check.exit and (check.output is None or check.output in done.stdout + done.stderr)
        detail = f"exit {done.exit_code} (expected {check.exit})"
        if check.output is not None:
            detail += f", output {'has' if check.output in done.stdout + done.stderr else 'lacks'} {check.output!r}"
        if not ok and output:
            detail += f": {_tail(output)}"
        return _result(item, where, ok, detail)
    if check.kind == "tcp":
        ok = done.exit_code == 0
        detail = "connected" if ok else f"no connection (exit {done.exit_code}){': ' + _tail(output) if output else ''}"
        return _result(item, where, ok, detail)
    status = done.stdout.strip()
    ok = status == str(check.status)
    detail = f"HTTP {_tail(status, 20) or 'no answer'} (expected {check.status})"
    if not ok and done.stderr.strip():
        detail += f": {_tail(done.stderr.strip())}"
    return _result(item, where, ok, detail)


def _tail(text: str, limit: int = 300) -> str:
    """The end of what a machine printed, without its escape sequences (shown on the user's terminal)."""
    text = printable(text)
    return text if len(text) <= limit else "..." + text[-limit:]


def _result(item: Declared, where: Machine, ok: bool, detail: str) -> CheckResultOut:
    return CheckResultOut(
        name=item.check.name,
        kind=item.check.kind,
        declared_by=item.declared_by,
        ran_in=where.name,
        ok=ok,
        detail=detail,
    )


async def run_smoke(
    client: IncusClient,
    infra: Infra,
    tree: Path,
    *,
    limit: str | None = None,
    parallel: int = 8,
    on_check: Callable[[str, CheckResultOut, int, int], None] | None = None,
) -> SmokeReport:
    """Run every declared check (at most `parallel` at once); one report entry per machine and check.
    `on_check(machine, result, done, total)` as each check ends (the TUI's progress)."""
    declared = declared_checks(infra, tree, limit)
    gate = asyncio.Semaphore(parallel)
    ended = 0

    async def bounded(item: Declared) -> CheckResultOut:
        nonlocal ended
        async with gate:
            result = await _run_one(client, infra, item)
        ended += 1
        if on_check is not None:
            on_check(item.machine.name, result, ended, len(declared))
        return result

    results = await asyncio.gather(*(bounded(item) for item in declared))
    by_machine: dict[str, list[CheckResultOut]] = {}
    for item, result in zip(declared, results, strict=True):
        by_machine.setdefault(item.machine.name, []).append(result)
    machines = [
        MachineChecksOut(domain=m.domain, machine=m.name, ok=all(r.ok for r in found), checks=found)
        for m in infra.machines
        if (found := by_machine.get(m.name))
    ]
    failed = sum(not r.ok for r in results)
    return SmokeReport(limit=limit, ok=failed == 0, passed=len(results) - failed, failed=failed, machines=machines)


def __getattr__(name: str):
    if name in ("Idempotence", "check_idempotence"):  # imports the apply pipeline: only when asked for
        from . import idempotence

        return getattr(idempotence, name)
    raise AttributeError(name)


__all__ = ["Idempotence", "check_idempotence", "declared_checks", "role_checks", "run_smoke"]
