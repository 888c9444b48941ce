"""A disposable from the domains view (key N, `:disp`, a domain's menu): made in a worker in the selected
domain (else the default disposable domain), shown as a row under its domain while it lives, then a shell in
it (the terminal handed over; the disposable is destroyed when the shell ends) or left detached. Disposables
made elsewhere (`disp`, another view) get rows too, from the status report and the events."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Literal, TypeGuard

from textual import work
from textual.binding import Binding

from ...engine import console, host, incus, machines
from ...psot.names import named_as_disposable
from ...widgets.domain_table import DomainTable, Row
from ..confirm import ConfirmScreen
from .host import DomainsHost

if TYPE_CHECKING:
    from ...psot.model import Infra
    from ...reports import StatusReport

DISPOSABLE_BINDINGS = [Binding("N", "new_disposable", "New disposable", show=False, id="domains.new_disposable")]
ROW_PREFIX = "x:"  # row keys of disposables: "x:<project>/<name>"
DESTROYED_BY = {"instance-stopped", "instance-shutdown"}


def row_key(disposable: machines.Disposable) -> str:
    return f"{ROW_PREFIX}{disposable.project}/{disposable.name}"


def is_disposable_row(row: Row | None) -> TypeGuard[Row]:
    return row is not None and row.key.startswith(ROW_PREFIX)


def disposable_row(disposable: machines.Disposable, trust: str, state: str) -> Row:
    return Row(key=row_key(disposable), name=disposable.name, trust=trust, kind="disp", ip="DHCP", state=state)


class DisposableActions(DomainsHost):
    """Mixed into the domains screen: needs `self.result`, `self.incus_url`, `self.report(text)`, `_refill()`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # row key -> (domain, the disposable, its row)
        self.disposables: dict[str, tuple[str, machines.Disposable, Row]] = {}

    def disposable_rows(self) -> dict[str, list[Row]]:
        """The live disposables' rows, by domain, for the table."""
        rows: dict[str, list[Row]] = {}
        for domain, _disposable, row in self.disposables.values():
            rows.setdefault(domain, []).append(row)
        return rows

    def _selected_domain(self) -> str | None:
        """The selected domain, or the domain of the selected machine or disposable; None without a selection."""
        row = self.query_one(DomainTable).selected()
        if row is None or self.result is None or self.result.infra is None:
            return None
        if is_disposable_row(row):
            return self.disposables[row.key][0] if row.key in self.disposables else None
        for domain in self.result.infra.domains:
            if (row.is_domain and domain.name == row.name) or any(m.name == row.name for m in domain.machines):
                return domain.name
        return None

    def action_new_disposable(self) -> None:
        if self.result is None or self.result.infra is None:
            self.app.notify("The infra is not checked or invalid: nothing to put a disposable in.", severity="warning")
            return
        if not self._allowed():
            return
        domain = self._selected_domain()
        infra = self.result.infra
        admin = next((d.name for d in infra.domains if d.name == domain and d.effective_trust == "admin"), None)
        if admin is not None:  # the admin domain holds the controller: a throwaway machine has no place there
            domain = None
        where = f"domain {domain}" if domain else "the default disposable domain"
        if admin is not None:
            where += f" (never the admin domain {admin})"
        self.report(f"disposable in {where}: creating …")
        self.app.notify(f"Creating a disposable in {where} …", title="disposable", timeout=4, markup=False)
        self.run_new_disposable(self.result.infra, domain)

    @work(group="disposable")
    async def run_new_disposable(self, infra: Infra, domain: str | None) -> None:
        try:
            async with incus.connect(self.incus_url) as client:
                started = machines.create_disposable(client, infra, domain=domain)
                disposable = await host.recorded_call("disp", domain, started, (machines.DisposableError,))
        except machines.DisposableError as exc:
            self.report(f"disposable: refused: {exc}")
            self.app.notify(str(exc), title="disposable", severity="warning", markup=False)
            return
        except incus.IncusError as exc:
            self.report(f"disposable: failed: {exc}")
            self.app.notify(str(exc), title="disposable: failed", severity="error", markup=False)
            return
        owner = next(d for d in infra.domains if d.project == disposable.project)
        row = disposable_row(disposable, owner.effective_trust, "Running")
        self.disposables[row.key] = (owner.name, disposable, row)
        self._refill()
        self.report(f"disposable {disposable.project}/{disposable.name}: running ({disposable.image})")
        self._offer_shell(disposable)

    def _offer_shell(self, disposable: machines.Disposable) -> None:
        question = (
            f"Disposable {disposable.name} is running in {disposable.project}.\n\nOpen a shell in it now? It is "
            "destroyed when the shell ends. No leaves it running detached: its row's menu (m) opens a shell "
            "later, or stops it, which destroys it."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.open_disposable_shell(disposable)
            else:
                self.report(f"disposable {disposable.name}: left running, detached")

        self.app.push_screen(ConfirmScreen(question, yes="Open a shell"), answered)

    def open_disposable_shell(self, disposable: machines.Disposable) -> None:
        try:
            argv = machines.shell_argv(self.incus_url, disposable)
        except (machines.DisposableError, console.ConsoleError) as exc:
            self.report(f"disposable: {exc}")
            self.app.notify(str(exc), title="disposable", severity="error", markup=False)
            return
        self.app.hand_over_terminal(argv)
        self.report(f"disposable {disposable.name}: shell ended, stopping (destroys it) …")
        self.run_stop_disposable(disposable)

    @work(group="disposable")
    async def run_stop_disposable(self, disposable: machines.Disposable) -> None:
        try:
            async with incus.connect(self.incus_url) as client:
                await machines.stop_disposable(client, disposable)
        except incus.IncusError as exc:
            self.report(f"disposable {disposable.name}: stop failed: {exc}")
            self.app.notify(str(exc), title="disposable: stop failed", severity="error", markup=False)
            return
        self._forget_disposable(row_key(disposable))
        self.report(f"disposable {disposable.name}: stopped and destroyed")

    def _selected_disposable(self) -> machines.Disposable | None:
        row = self.query_one(DomainTable).selected()
        found = self.disposables.get(row.key) if is_disposable_row(row) else None
        return found[1] if found else None

    def action_disposable_shell(self) -> None:
        disposable = self._selected_disposable()
        if disposable is not None:
            self.open_disposable_shell(disposable)

    def action_stop_disposable(self) -> None:
        disposable = self._selected_disposable()
        if disposable is not None:
            self.report(f"disposable {disposable.name}: stopping (destroys it) …")
            self.run_stop_disposable(disposable)

    def _forget_disposable(self, key: str) -> None:
        if self.disposables.pop(key, None) is not None:
            self._refill()

    def take_disposables(self, report: StatusReport) -> None:
        """The disposables Incus holds, wherever they were made (this view, another, `disp`), as rows;
        rows of disposables gone meanwhile go (called with each status report, before the table is filled)."""
        found: dict[str, tuple[str, machines.Disposable, Row]] = {}
        for domain in report.domains:
            for seen in domain.disposables:
                kind: Literal["container", "virtual-machine"] = "virtual-machine" if seen.type == "vm" else "container"
                disposable = machines.Disposable(project=domain.project, name=seen.name, image="", type=kind)
                key = row_key(disposable)
                known = self.disposables.get(key)
                if known is not None:
                    disposable = known[1]
                found[key] = (domain.name, disposable, disposable_row(disposable, domain.trust_level, seen.state))
        self.disposables = found

    def _made_elsewhere(self, project: str, name: str) -> tuple[str, str] | None:
        """(domain, trust) when `name` in `project` is a disposable of a declared domain (`<prefix>disp-…`)."""
        infra = self.result.infra if self.result is not None else None
        if infra is None or not named_as_disposable(name, infra.prefix):
            return None
        return next(((d.name, d.effective_trust) for d in infra.domains if d.project == project), None)

    def on_domains_screen_instance_changed(self, message) -> None:
        """Events about disposables (not declared, so the screen itself ignores them): one appearing, its
        state, and gone. Incus-ephemeral, a disposable is destroyed once stopped, and Incus may say so before
        it says stopped: a stop event removes its row too, and never makes one."""
        change = message.change
        key = f"{ROW_PREFIX}{change.project}/{change.name}"
        if change.status is None or change.action in DESTROYED_BY:
            self._forget_disposable(key)
            return
        if key in self.disposables:
            domain, disposable, row = self.disposables[key]
            self.disposables[key] = (domain, disposable, replace(row, state=change.status))
            self.query_one(DomainTable).update_row(key, state=change.status)
            return
        owner = self._made_elsewhere(change.project, change.name)
        if owner is not None:
            disposable = machines.Disposable(project=change.project, name=change.name, image="", type="container")
            self.disposables[key] = (owner[0], disposable, disposable_row(disposable, owner[1], change.status))
            self._refill()
