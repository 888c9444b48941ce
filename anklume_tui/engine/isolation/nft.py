"""The isolation ruleset (SPEC §9.1): rendering, the safety check, and the only `nft` call site.

Loading is one `nft -f` transaction (`table; delete table; table {...}`), so the table is replaced
atomically and a failure leaves the previous one in place. Every nft call takes `netns` (a
`/proc/<pid>/ns/net` path): tests run nft inside a private network namespace, never the host's.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ...errors import Failed
from ...psot.generate import write_atomic
from ..host.private_files import write_private
from .firewall_vm import FirewallInterface, firewall_interfaces, firewall_profile_devices, render_firewall_vm_ruleset
from .render import render_host_ruleset

__all__ = [
    "FirewallInterface",
    "LoadOutcome",
    "NftError",
    "RulesetRefused",
    "br_netfilter_warning",
    "check_ruleset",
    "firewall_interfaces",
    "firewall_profile_devices",
    "list_table",
    "load_ruleset",
    "nft_check",
    "render_firewall_vm_ruleset",
    "render_host_ruleset",
]

TABLE = ("inet", "anklume")
NETNS_ENV = "ANKLUME_NFT_NETNS"


class NftError(Failed):
    """nft refused or failed; the message is nft's own."""


class RulesetRefused(NftError):
    """The text would touch something other than `table inet anklume`."""


# Safety check: only `table inet anklume` may be created, changed or deleted.

_OBJECT = r"(?:chain|rule|set|map|element|flowtable|counter|quota|limit|ct\s+\S+|secmark|synproxy)"
_TABLE_STMT = re.compile(r"^(?:(add|create|delete|destroy|flush|list)\s+)?table\s+(\S+)(?:\s+(\S+))?")
_OBJECT_STMT = re.compile(rf"^(?:add|create|insert|replace|delete|destroy|flush|reset)\s+{_OBJECT}\s+(\S+)\s+(\S+)")


def _statements(text: str) -> list[str]:
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0]
        found += [part.strip() for part in line.split(";") if part.strip()]
    return found


def _names_anklume(family: str, name: str | None) -> bool:
    return (family, name) == TABLE  # `table NAME` alone means family ip: refused too


def check_ruleset(text: str) -> list[str]:
    """Why this text must not be loaded (empty when it only touches `table inet anklume`)."""
    problems = []
    for statement in _statements(text):
        words = statement.split()
        if words[0] == "include":
            problems.append(f"refused: include ({statement})")
        elif words[:2] == ["flush", "ruleset"]:
            problems.append("refused: flush ruleset")
        elif match := _TABLE_STMT.match(statement):
            _verb, family, name = match.groups()
            if not _names_anklume(family, (name or "").rstrip("{") or None):
                problems.append(f"refused: another table ({statement})")
        elif (match := _OBJECT_STMT.match(statement)) and (match[1], match[2]) != TABLE:
            problems.append(f"refused: object of another table ({statement})")
    return problems


# Running nft


def _command(args: list[str], netns: str | None, nft: str) -> list[str]:
    netns = netns if netns is not None else os.environ.get(NETNS_ENV) or None
    base = [nft, *args]
    return ["nsenter", f"--net={netns}", "--", *base] if netns else base


def _nft(args: list[str], *, netns: str | None, nft: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(_command(args, netns, nft), capture_output=True, text=True, timeout=60)
    except FileNotFoundError as exc:
        raise NftError(f"{exc.filename or nft} not found (install nftables)") from exc
    except subprocess.TimeoutExpired as exc:
        raise NftError(f"nft did not answer within {exc.timeout} s") from exc


def _failure(what: str, result: subprocess.CompletedProcess[str]) -> NftError:
    message = (result.stderr or result.stdout).strip() or f"exit code {result.returncode}"
    return NftError(f"{what}: {message}")


def nft_check(path: Path, *, netns: str | None = None, nft: str = "nft") -> None:
    """`nft -c -f path`: parse and validate against the kernel without changing anything."""
    result = _nft(["-c", "-f", str(path)], netns=netns, nft=nft)
    if result.returncode != 0:
        raise _failure("nft -c refused the ruleset", result)


def list_table(*, netns: str | None = None, nft: str = "nft") -> str | None:
    """`nft list table inet anklume`, None when the table does not exist."""
    result = _nft(["list", "table", *TABLE], netns=netns, nft=nft)
    return result.stdout if result.returncode == 0 else None


@dataclass(frozen=True)
class LoadOutcome:
    state_file: Path
    changed: bool  # the live table differs from before


def load_ruleset(text: str, state_file: Path, *, netns: str | None = None, nft: str = "nft") -> LoadOutcome:
    """Refuse anything beyond our table, check with `nft -c`, load in one `nft -f` transaction, then keep
    the text as `state_file`. On any failure the previous table (and state file) stay as they were.

    When the live table is, listed, exactly what loading this very text left last time (`loaded_record`),
    loading it again would change nothing: only that listing is asked of nft."""
    problems = check_ruleset(text)
    if problems:
        raise RulesetRefused("; ".join(problems))
    before = list_table(netns=netns, nft=nft)
    record = loaded_record(state_file)
    if before is not None and _read(record) == _record_of(text, before) and _read(state_file) == text:
        return LoadOutcome(state_file, False)
    candidate = state_file.with_name(f".{state_file.name}.{secrets.token_hex(4)}.tmp")
    write_private(candidate, text)
    try:
        nft_check(candidate, netns=netns, nft=nft)
        result = _nft(["-f", str(candidate)], netns=netns, nft=nft)
        if result.returncode != 0:
            raise _failure("nft could not load the ruleset (the previous one stays)", result)
        write_private(state_file, text)
    finally:
        candidate.unlink(missing_ok=True)
    after = list_table(netns=netns, nft=nft)
    if after is not None:
        write_private(record, _record_of(text, after))
    return LoadOutcome(state_file, after != before)


def loaded_record(state_file: Path) -> Path:
    """Beside the state file: the digest of the text last loaded and the table's listing right after."""
    return state_file.with_name(f"{state_file.name}.loaded")


def _record_of(text: str, listing: str) -> str:
    return f"{hashlib.sha256(text.encode()).hexdigest()}\n{listing}"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def persist_ruleset(text: str, directory: Path, name: str = "anklume-isolation.nft") -> Path:
    """Install a copy where the host's nftables service loads it at boot (left alone when it already is)."""
    path = directory / name
    if _read(path) != text:
        write_atomic(path, text)
    return path


def br_netfilter_warning() -> str | None:
    """Without br_netfilter, traffic between two ports of one bridge bypasses nftables (routed traffic
    between bridges is still filtered)."""
    if Path("/proc/sys/net/bridge/bridge-nf-call-iptables").exists() or Path("/sys/module/br_netfilter").exists():
        return None
    return "br_netfilter is not loaded: same-bridge traffic is not seen by nftables (modprobe br_netfilter)"
