"""Actions on the selected machine or domain, from keys: the engine does the work in a worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual import work
from textual.binding import Binding

from ...engine import console, host, incus, machines
from ...widgets.domain_table import DomainTable
from ..confirm import ConfirmScreen
from .host import DomainsHost

ACTION_BINDINGS = [
    Binding("s", "machine('start')", "Start", id="domains.start"),
    Binding("x", "machine('stop')", "Stop", id="domains.stop"),
    Binding("R", "machine('restart')", "Restart", show=False, id="domains.restart"),
    Binding("f", "machine('freeze')", "Freeze", show=False, id="domains.freeze"),
    Binding("F", "machine('unfreeze')", "Unfreeze", show=False, id="domains.unfreeze"),
    Binding("n", "snapshot", "Snapshot now", id="domains.snapshot"),
    Binding("D", "delete", "Delete", show=False, id="domains.delete"),
    Binding("c", "console", "Console", id="domains.console"),
]


class MachineActions(DomainsHost):
    """Mixed into the domains screen: needs `self.result`, `self.incus_url`, `self.report(text)`."""

    def _targets(self) -> tuple[str, list[tuple[str, machines.Target]]]:
        """(what the selection is called, [(machine name, target)]): one machine, or a domain's machines."""
        row = self.query_one(DomainTable).selected()
        if row is None or self.result is None or self.result.infra is None:
            return "", []
        for domain in self.result.infra.domains:
            if row.is_domain and domain.name == row.name:
                found = [(m.name, machines.Target(domain.project, m.instance_name)) for m in domain.machines]
                return f"domain {domain.name}", found
            for machine in domain.machines:
                if machine.name == row.name:
                    return f"machine {machine.name}", [
                        (machine.name, machines.Target(domain.project, machine.instance_name))
                    ]
        return "", []

    def _allowed(self) -> bool:
        if self.app.read_only:
            self.app.notify("This is the bundled example, read-only: start your own infra to act.", severity="warning")
            return False
        return True

    def action_machine(self, action: str) -> None:
        what, targets = self._targets()
        if targets and self._allowed():
            self.report(f"{action} {what} …")
            self.run_state_change(action, targets)

    def action_snapshot(self) -> None:
        what, targets = self._targets()
        if targets and self._allowed():
            self.report(f"snapshot {what} …")
            self.run_snapshot(targets)

    def action_delete(self) -> None:
        what, targets = self._targets()
        if len(targets) != 1 or not self._allowed() or not what.startswith("machine"):
            if what.startswith("domain"):
                self.app.notify("Delete works on one machine at a time.", severity="warning")
            return
        ((name, target),) = targets
        question = (
            f"Delete {name} ({target})?\n\nThe container and its disk are destroyed; its snapshots go with it. "
            "Protected machines and machines anklume-tui did not create are refused."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.report(f"delete {name} …")
                self.run_delete(name, target)

        self.app.push_screen(ConfirmScreen(question, yes="Delete"), answered)

    def action_console(self) -> None:
        """Coloured tmux panes for the selected machine, or for the whole selected domain."""
        what, targets = self._targets()
        if not targets:
            return
        row = self.query_one(DomainTable).selected()
        assert row is not None and self.result is not None and self.result.infra is not None  # _targets found it
        domain = (
            row.name
            if row.is_domain
            else next(d.name for d in self.result.infra.domains if any(m.name == row.name for m in d.machines))
        )
        self.report(f"console {what} …")
        self.run_console(domain, None if row.is_domain else row.name)

    @work(thread=True, group="console")
    def run_console(self, domain: str, machine: str | None) -> None:
        states = {}
        for status in self.status.domains if self.status else []:
            for m in status.machines:
                states[(status.project, m.instance)] = m.state
        assert self.result is not None and self.result.infra is not None  # opened on a selection in it
        try:
            argv = console.open_for_selection(self.incus_url, self.result.infra, states, domain, machine)
        except (console.ConsoleError, incus.IncusError, OSError) as exc:
            self.app.call_from_thread(self.report, f"console: {exc}")
            self.app.call_from_thread(self.app.notify, str(exc), title="console", severity="error")
            return
        if argv is None:
            self.app.call_from_thread(self.report, "console: opened in this tmux session")
        else:
            self.app.call_from_thread(self.app.hand_over_terminal, argv)

    @work(group="actions")
    async def run_state_change(self, action: str, targets: list[tuple[str, machines.Target]]) -> None:
        for name, target in targets:
            await self._attempt(f"{action} {name}", partial(machines.change_state, target=target, action=action))

    @work(group="actions")
    async def run_snapshot(self, targets: list[tuple[str, machines.Target]]) -> None:
        for name, target in targets:
            await self._attempt(f"snapshot {name}", partial(machines.snapshot_now, target=target))
        await self._recount_snapshots(targets)

    async def _recount_snapshots(self, targets: list[tuple[str, machines.Target]]) -> None:
        """The snapshot cells read again from Incus, so they do not wait for the next full status (r)."""
        try:
            async with incus.connect(self.incus_url) as client:
                counts = {name: len(await client.list_snapshots(t.instance, project=t.project)) for name, t in targets}
        except incus.IncusError:
            return  # the status watcher says Incus is away; the cells keep their values
        table = self.query_one(DomainTable)
        for domain in self.status.domains if self.status else []:
            for machine in domain.machines:
                if machine.name in counts and machine.state != "missing":
                    machine.snapshots = counts[machine.name]
        for name, count in counts.items():
            self.live.setdefault(f"m:{name}", {})["snapshots"] = str(count)
            table.update_row(f"m:{name}", snapshots=str(count))

    @work(group="actions")
    async def run_delete(self, name: str, target: machines.Target) -> None:
        await self._attempt(f"delete {name}", lambda client: machines.delete_machine(client, target))

    async def _attempt(self, label: str, call: Callable[[incus.IncusClient], Awaitable[object]]) -> None:
        """Run `call` on a client of its own. `label` is "OPERATION NAME": its first word is the operation the
        usage log records (when on)."""
        try:
            async with incus.connect(self.incus_url) as client:
                result = await host.recorded_call(label.partition(" ")[0], None, call(client), (machines.Refused,))
        except machines.Refused as exc:
            self.report(f"{label}: refused: {exc}")
            self.app.notify(str(exc), title=f"{label}: refused", severity="warning", markup=False)
        except incus.IncusError as exc:
            self.report(f"{label}: failed: {exc}")
            self.app.notify(str(exc), title=f"{label}: failed", severity="error", markup=False)
        else:
            done = f"{label}: done" + (f" ({result})" if isinstance(result, str) else "")
            self.report(done)
            self.app.notify(done, markup=False)
