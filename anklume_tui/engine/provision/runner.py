"""Provisioning (SPEC §8.5): ansible-runner runs the shipped `playbooks/site.yml` over the generated
inventory; the `anklume_incus` connection reaches each instance through Incus (exec, file transfer).

Everything that wires the run is made at run time, never written into the user's tree (whose managed
sections are synced first): a temporary private data folder holds an inventory folder of symlinks to
the tree's `inventory/<domain>.yml`, `group_vars/` and `host_vars/` (Ansible reads group and host vars
beside an inventory folder); the connection, the Incus URL and the Python discovery go in as
environment, the firewall VM's ruleset as extra vars (a file of ours, its text tagged `!unsafe` as in
the generated tree: infra text is never evaluated as a template). Roles are looked up in
`<tree>/roles_custom`, the shipped `roles/`, then `<tree>/roles_vendor`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import exitcodes
from ...errors import Failed, Invalid
from ...psot.generate import ansible_safe, sync_tree
from ...psot.model import Infra, Machine
from ...psot.scope import check_limit
from ...psot.yaml_emit import emit
from ..host import paths as state
from ..host.apply_lock import ApplyLock, ApplyLocked
from ..host.private_files import write_private
from ..incus.endpoint import resolve_endpoint
from ..incus.errors import IncusUrlError
from ..isolation.enforce import recorded_ai_holder
from ..isolation.firewall_vm import firewall_interfaces, render_firewall_vm_ruleset
from .events import FINISHED_TASK, HostRecap, ProvisionEvent, event_of, outcomes, recaps_of

SITE_PLAYBOOK = "site.yml"
ALWAYS_ROLES = ("base_system",)
ADMIN_ROLES = ("admin_bootstrap",)
FIREWALL_ROLE = "firewall_router"

ProvisionSink = Callable[[ProvisionEvent], None]


class ProvisionRefused(Failed):
    """Provisioning cannot start (ansible-playbook or the shipped playbook missing); nothing ran."""


class MissingRoles(ProvisionRefused):
    """A machine needs a role that no role folder holds; nothing ran."""

    exit_code = exitcodes.INVALID


class UnknownRole(Invalid):
    """`--role` names a role that no machine of the run gets; nothing ran."""


@dataclass(frozen=True)
class Selection:
    """What of site.yml a run carries out: these roles only (None: every role each machine gets), and
    Ansible's `--tags` (None: every task)."""

    roles: tuple[str, ...] | None = None
    tags: str | None = None


@dataclass
class ProvisionResult:
    hosts: list[HostRecap] = field(default_factory=list)
    problems: list[ProvisionEvent] = field(default_factory=list)  # every failed or unreachable task
    synced: list[str] = field(default_factory=list)  # tree files rewritten before the run
    log: Path | None = None  # Ansible's full output
    error: str = ""  # the run itself broke (not one machine's task): ansible-playbook's own message

    @property
    def ok(self) -> bool:
        return not self.error and not self.problems and all(h.outcome == "provisioned" for h in self.hosts)

    def of(self, outcome: str) -> list[str]:
        """The machines that ended so (`provisioned`, `failed`, `unreachable`, `skipped`)."""
        return [h.host for h in self.hosts if h.outcome == outcome]

    def summary(self) -> str:
        """One sentence naming which machines ran, which failed and which were skipped."""
        parts = [
            f"{word} {len(hosts)} ({', '.join(hosts)})" if hosts else f"{word} 0"
            for word, hosts in (
                ("provisioned", self.of("provisioned")),
                ("failed", self.of("failed")),
                ("unreachable", self.of("unreachable")),
                ("skipped", self.of("skipped")),
            )
            if hosts or word in ("provisioned", "failed")
        ]
        return f"{len(self.hosts)} machine(s): " + ", ".join(parts)


def roles_path(tree: Path) -> list[Path]:
    return state.role_folders(tree)


def machines_to_provision(infra: Infra, limit: str | None) -> list[Machine]:
    """Machines of the enabled domains (or of the one `limit` names: UnknownDomain otherwise)."""
    check_limit(infra, limit)
    return [m for d in infra.enabled_domains if limit in (None, d.name) for m in d.machines]


def wanted_roles(machine: Machine) -> list:
    """The roles site.yml runs on a machine, in order (entries as the infra gives them)."""
    wanted = [*ALWAYS_ROLES, *(ADMIN_ROLES if machine.domain == "anklume" else ()), *(machine.roles or ())]
    return list(dict.fromkeys(wanted))


def expected_roles(machines: list[Machine]) -> dict[str, list[str]]:
    return {m.name: [str(r) for r in wanted_roles(m)] for m in machines}


def missing_roles(machines: list[Machine], search: list[Path]) -> list[str]:
    """One message per role a machine needs that no role folder holds."""
    where = ", ".join(str(p) for p in search)
    problems = []
    for machine in machines:
        for role in wanted_roles(machine):
            if not isinstance(role, str):
                problems.append(f"{machine.name}: roles entry {role!r} is not a role name")
            elif not any((folder / role / "tasks").is_dir() for folder in search):
                problems.append(f"{machine.name}: role {role!r} found in none of {where}")
    return problems


def provisionable(infra: Infra, tree: Path, limit: str | None, roles: tuple[str, ...] | None = None) -> list[Machine]:
    """The machines a run would provision (with `roles`, those that get one of them); raises UnknownDomain (bad
    limit), UnknownRole (a role no machine in scope gets) or MissingRoles."""
    machines = machines_to_provision(infra, limit)
    if roles is not None:
        machines = machines_with_roles(machines, roles, limit)
    if problems := missing_roles(machines, roles_path(tree.resolve())):
        raise MissingRoles("; ".join(problems))
    return machines


def machines_with_roles(machines: list[Machine], roles: tuple[str, ...], limit: str | None) -> list[Machine]:
    gets = {m.name: {str(r) for r in wanted_roles(m)} for m in machines}
    valid = sorted(set().union(*gets.values()))
    unknown = [r for r in roles if r not in valid]
    if unknown or not roles:
        scope = f" of domain {limit!r}" if limit else ""
        shown = ", ".join(repr(r) for r in unknown) or "nothing"
        raise UnknownRole(f"--role: no machine{scope} gets {shown}; the roles are: {', '.join(valid) or 'none'}")
    return [m for m in machines if gets[m.name] & set(roles)]


def firewall_vars(infra: Infra, machines: list[Machine]) -> dict[str, Any]:
    """The firewall VM's interfaces and ruleset (SPEC §9.3), when a machine of the run is the firewall."""
    if not any(FIREWALL_ROLE in (m.roles or ()) for m in machines):
        return {}
    interfaces = firewall_interfaces(infra)
    return {
        "firewall_router_interfaces": [i.as_vars() for i in interfaces],
        "firewall_router_ruleset": render_firewall_vm_ruleset(infra, interfaces, recorded_ai_holder(infra)),
    }


def ansible_playbook() -> Path:
    """Beside the running Python (the venv's bin, activated or not), else on PATH."""
    beside = Path(sys.executable).parent / "ansible-playbook"
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("ansible-playbook")
    if found is None:
        raise ProvisionRefused("ansible-playbook not found beside Python nor on PATH: pip install ansible-core")
    return Path(found)


def _connection_plugins() -> Path:
    from ...ansible_plugins import connection

    return Path(connection.__file__).parent


def _link_inventory(folder: Path, tree: Path, infra: Infra) -> Path:
    """An inventory folder of symlinks: one file per enabled domain (orphan files stay out), and the
    group and host vars beside it."""
    folder.mkdir()
    for domain in infra.enabled_domains:
        (folder / f"{domain.name}.yml").symlink_to(tree / "inventory" / f"{domain.name}.yml")
    for vars_dir in ("group_vars", "host_vars"):
        if (tree / vars_dir).is_dir():
            (folder / vars_dir).symlink_to(tree / vars_dir)
    return folder


class _Recorder:
    def __init__(self, on_event: ProvisionSink | None) -> None:
        self.on_event = on_event
        self.problems: list[ProvisionEvent] = []
        self.stats: dict[str, Any] = {}
        self.reached: dict[str, set[str]] = {}  # per machine, the roles a task of which ran or was skipped
        self.finished: set[str] = set()  # the machines on which every play ran

    def handle(self, raw: dict[str, Any]) -> bool:
        data = raw.get("event_data") or {}
        host = str(data.get("host") or "")
        if raw.get("event") == "playbook_on_stats":
            self.stats = data
        elif str(raw.get("event", "")).startswith("runner_on_") and host:
            if data.get("task") == FINISHED_TASK:
                self.finished.add(host)
                return False
            if data.get("role"):
                self.reached.setdefault(host, set()).add(str(data["role"]))
        event = event_of(raw)
        if event is not None:
            if event.problem:
                self.problems.append(event)
            if self.on_event is not None:
                self.on_event(event)
        return False  # nothing to keep on disk: the recap is taken here, the full output is in stdout


def provision(
    infra: Infra,
    tree: Path,
    *,
    limit: str | None = None,
    incus_url: str | None = None,
    on_event: ProvisionSink | None = None,
    selection: Selection | None = None,
) -> ProvisionResult:
    """Sync the tree's managed sections, then run site.yml on the machines (all, or the `limit` domain's),
    holding the apply lock: never beside an apply or another provision. `selection` cuts the run down to
    some roles (and the machines that get them) or to Ansible tags.

    Raises UnknownDomain (bad limit), UnknownRole, IncusUrlError (bad URL), ProvisionRefused (the lock is held,
    among others) and MissingRoles (nothing ran), OSError (the tree cannot be written)."""
    try:
        with ApplyLock(state.state_dir()):
            return _provision(infra, tree, limit, incus_url, on_event, selection or Selection())
    except ApplyLocked as exc:
        raise ProvisionRefused(str(exc)) from None


def provision_after_apply(
    infra: Infra, tree: Path, limit: str | None, incus_url: str | None, on_event: ProvisionSink | None
) -> ProvisionResult:
    """Provisioning as the last phase of apply (CLI and TUI alike): whatever keeps it from running is
    reported in the result's `error`, not raised."""
    try:
        return provision(infra, tree, limit=limit, incus_url=incus_url, on_event=on_event)
    except (ProvisionRefused, IncusUrlError, OSError) as exc:
        return ProvisionResult(error=str(exc))


def _provision(
    infra: Infra,
    tree: Path,
    limit: str | None,
    incus_url: str | None,
    on_event: ProvisionSink | None,
    selection: Selection,
) -> ProvisionResult:
    tree = tree.resolve()
    machines = provisionable(infra, tree, limit, selection.roles)
    endpoint = resolve_endpoint(incus_url)
    search = roles_path(tree)
    playbooks = state.shipped_ansible_dir() / "playbooks"
    if not (playbooks / SITE_PLAYBOOK).is_file():
        raise ProvisionRefused(f"the shipped playbook {playbooks / SITE_PLAYBOOK} is missing")
    binary = ansible_playbook()
    result = ProvisionResult(synced=sync_tree(tree, infra, dry_run=False, clean_orphans=False).written)
    if result.synced:
        _note(on_event, f"provision: the generated tree was out of date, synced {', '.join(result.synced)}")
    if not machines:
        _note(on_event, "provision: no machine to provision")
        return result
    recorder = _Recorder(on_event)
    with tempfile.TemporaryDirectory(prefix="anklume-provision-") as private:
        inventory = _link_inventory(Path(private) / "hosts", tree, infra)
        # The chosen roles reach site.yml as a variable (data, never part of a template).
        only = {"anklume_only_roles": list(selection.roles)} if selection.roles is not None else {}
        _write_extravars(Path(private), {**firewall_vars(infra, machines), **only})
        envvars = {
            **endpoint.environment(),
            "ANSIBLE_TRANSPORT": "anklume_incus",
            "ANSIBLE_CONNECTION_PLUGINS": str(_connection_plugins()),
            "ANSIBLE_ROLES_PATH": os.pathsep.join(str(p) for p in search if p.is_dir()),
            "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
            "ANSIBLE_LOCAL_TEMP": str(Path(private) / "tmp"),
            "ANSIBLE_PIPELINING": "1",
            "ANSIBLE_NOCOLOR": "1",
            "PATH": os.pathsep.join([str(binary.parent), os.environ.get("PATH", os.defpath)]),
        }
        try:
            import ansible_runner

            runner = ansible_runner.run(
                private_data_dir=private,
                project_dir=str(playbooks),
                playbook=SITE_PLAYBOOK,
                inventory=str(inventory),
                limit=",".join(m.name for m in machines) if limit or selection.roles is not None else None,
                tags=selection.tags,
                envvars=envvars,
                event_handler=recorder.handle,
                quiet=True,
            )
        except Exception as exc:  # ansible-runner's own failures: one message, not a traceback
            result.error = f"ansible-runner could not run the playbook: {type(exc).__name__}: {exc}"
            return result
        result.log = _keep_log(runner)
    expected = expected_roles(machines)
    if selection.roles is not None:
        expected = {host: [r for r in roles if r in selection.roles] for host, roles in expected.items()}
    result.hosts = outcomes(recaps_of(recorder.stats), expected, recorder.reached, recorder.finished)
    result.problems = recorder.problems
    if runner.rc != 0 and not result.problems:
        result.error = _last_error(result.log) or f"ansible-playbook ended with {runner.status} (exit {runner.rc})"
    _keep_report(result, tree, limit, machines)
    return result


def _keep_report(result: ProvisionResult, tree: Path, limit: str | None, machines: list[Machine]) -> None:
    """The run's outcome beside its log (`explain LAST` reads it): each failed task, its machine's domain."""
    domains = {m.name: m.domain for m in machines}
    report = {
        "ok": result.ok,
        "tree": str(tree),
        "limit": limit,
        "log": str(result.log) if result.log else None,
        "error": result.error or None,
        "problems": [
            {"host": p.host, "domain": domains.get(p.host), "task": p.task, "message": p.message, "kind": p.kind}
            for p in result.problems
        ],
    }
    with contextlib.suppress(OSError):
        write_private(state.provision_report_file(), json.dumps(report, indent=2) + "\n")


def _write_extravars(private: Path, variables: dict[str, Any]) -> None:
    """ansible-runner passes `env/extravars` as `-e @file`. Its own dump would be JSON, which has no way to
    say `!unsafe`, and extra vars from a file are trusted as templates: the file is written here instead."""
    if variables:
        (private / "env").mkdir(exist_ok=True)
        (private / "env" / "extravars").write_text(emit(ansible_safe(variables)), encoding="utf-8")


def _note(on_event: ProvisionSink | None, message: str) -> None:
    if on_event is not None:
        on_event(ProvisionEvent("note", message=message))


def _keep_log(runner: Any) -> Path | None:
    """Ansible's output, kept as the last run's log in the state folder."""
    source = Path(runner.config.artifact_dir) / "stdout"
    target = state.provision_log_file()
    try:
        write_private(target, source.read_text(errors="replace"))
    except OSError:
        return None
    return target


def _last_error(log: Path | None) -> str:
    """ansible-playbook's `ERROR! ...` (or `[ERROR]: ...`) paragraph, on one line."""
    if log is None:
        return ""
    lines = log.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("ERROR!", "[ERROR]")):
            paragraph = [line]
            for more in lines[i + 1 :]:
                if not more.strip():
                    break
                paragraph.append(more.strip())
            return " ".join(paragraph)
    return ""
