"""Progress of a provisioning run, as typed events made from ansible-runner's (for the TUI and stderr),
and the per-machine recap Ansible prints at the end."""

from __future__ import annotations

from dataclasses import dataclass, replace
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


# site.yml's last task: a machine reaches it only when every play ran on it.
FINISHED_TASK = "Every play ran on this machine"

Outcome = Literal["provisioned", "failed", "unreachable", "skipped"]


@dataclass(frozen=True)
class HostRecap:
    """Ansible's counts for one machine over the whole run, and what became of it: `provisioned` (every play
    ran), `failed` or `unreachable` (a task of its own), `skipped` (neither: the run stopped before its roles
    ran); `not_run` names the roles it should have had that never started on it."""

    host: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0
    outcome: Outcome = "provisioned"
    not_run: tuple[str, ...] = ()

    def line(self) -> str:
        counts = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
        return f"{self.host}: " + " ".join(f"{name}={getattr(self, name)}" for name in counts)

    def outcome_line(self) -> str:
        """What became of the machine, in words: `web-1: failed; not run: nginx, php`."""
        not_run = f"; not run: {', '.join(self.not_run)}" if self.not_run else ""
        return f"{self.host}: {self.outcome}{not_run}"


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
    """The `playbook_on_stats` counters, one recap per machine, in name order (outcomes: see `outcomes`)."""
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
    recaps = []
    for host in hosts:
        counts: dict[str, Any] = {ours: int((stats.get(theirs) or {}).get(host, 0)) for theirs, ours in fields.items()}
        recaps.append(HostRecap(host, **counts))
    return recaps


def outcomes(
    recaps: list[HostRecap], expected: dict[str, list[str]], reached: dict[str, set[str]], finished: set[str]
) -> list[HostRecap]:
    """Each machine of the run (`expected`: its roles, in order) with its outcome, in name order: a machine
    Ansible never counted is skipped; one without a failure that did not reach FINISHED_TASK is skipped too
    (Ansible ended the run before its roles: saying `failed=0` alone would hide it)."""
    counted = {r.host: r for r in recaps}
    result = []
    for host in sorted(set(counted) | set(expected)):
        recap = counted.get(host, HostRecap(host))
        if recap.unreachable:
            outcome: Outcome = "unreachable"
        elif recap.failed:
            outcome = "failed"
        else:
            outcome = "provisioned" if host in finished else "skipped"
        started = reached.get(host, set())
        not_run = () if outcome == "provisioned" else tuple(r for r in expected.get(host, ()) if r not in started)
        result.append(replace(recap, outcome=outcome, not_run=not_run))
    return result
