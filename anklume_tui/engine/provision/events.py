"""Progress of a provisioning run, as typed events made from ansible-runner's (for the TUI and stderr),
and the per-machine recap Ansible prints at the end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ...printable import printable

Kind = Literal["play", "ok", "changed", "skipped", "ignored", "failed", "unreachable", "note"]

_RESULTS = {
    "runner_on_ok": "ok",
    "runner_on_skipped": "skipped",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
}


@dataclass(frozen=True)
class ProvisionEvent:
    """One task's result on one machine (`host`, `task` as `role : name`), a play starting, or a note."""

    kind: Kind
    host: str = ""
    task: str = ""
    message: str = ""

    @property
    def problem(self) -> bool:
        return self.kind in ("failed", "unreachable")

    def line(self) -> str:
        """The event on one line, safe for a terminal (task output may carry escape sequences)."""
        if self.kind == "play":
            return printable(f"play {self.task}")
        if self.kind == "note":
            return printable(self.message)
        text = f"{self.kind:11} {self.host}: {self.task}" if self.task else f"{self.kind:11} {self.host}"
        return printable(f"{text}: {self.message}" if self.message else text)


@dataclass(frozen=True)
class HostRecap:
    """Ansible's counts for one machine over the whole run."""

    host: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0

    def line(self) -> str:
        counts = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
        return f"{self.host}: " + " ".join(f"{name}={getattr(self, name)}" for name in counts)


def event_of(raw: dict[str, Any]) -> ProvisionEvent | None:
    """The event worth showing for one ansible-runner event, or None (task starts, stdout chunks, stats)."""
    name = raw.get("event", "")
    data = raw.get("event_data") or {}
    if name == "playbook_on_play_start":
        return ProvisionEvent("play", task=str(data.get("play") or data.get("name") or ""))
    if name not in _RESULTS:
        return None
    result = data.get("res") or {}
    kind: Kind = _RESULTS[name]  # type: ignore[assignment]
    if kind == "ok" and result.get("changed"):
        kind = "changed"
    if kind == "failed" and data.get("ignore_errors"):
        kind = "ignored"
    role, task = data.get("role"), str(data.get("task") or "")
    message = failure_message(result) if kind in ("failed", "unreachable", "ignored") else ""
    return ProvisionEvent(
        kind, host=str(data.get("host") or ""), task=f"{role} : {task}" if role else task, message=message
    )


def failure_message(result: dict[str, Any]) -> str:
    """Ansible's message for a failed task, on one line: `msg`, with the last stderr line when it adds
    something; for a loop, the first failed item's."""
    for item in result.get("results") or ():
        if isinstance(item, dict) and item.get("failed"):
            return failure_message(item)
    message = str(result.get("msg") or "").strip().removeprefix("Task failed: ")
    stderr = str(result.get("stderr") or result.get("module_stderr") or "").strip()
    last = stderr.splitlines()[-1].strip() if stderr else ""
    if last and last not in message:
        message = f"{message}: {last}" if message else last
    return " ".join(printable(message).split()) or "failed (Ansible gave no message)"


def recaps_of(stats: dict[str, Any]) -> list[HostRecap]:
    """The `playbook_on_stats` counters, one recap per machine, in name order."""
    fields = {
        "ok": "ok",
        "changed": "changed",
        "failures": "failed",
        "dark": "unreachable",
        "skipped": "skipped",
        "rescued": "rescued",
        "ignored": "ignored",
    }
    hosts = sorted({h for key in fields for h in (stats.get(key) or {})} | set(stats.get("processed") or {}))
    return [
        HostRecap(host, **{ours: int((stats.get(theirs) or {}).get(host, 0)) for theirs, ours in fields.items()})
        for host in hosts
    ]
