"""Move the selected machine to another cluster member (`M` on the machine table): a small picker of the members
(where it is now marked, offline ones shown but refused), then the move in a worker, each step (stopping, moving,
starting) in the operations log. Off a cluster the key says so and opens nothing."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..engine import host, incus
from ..widgets.domain_table import DomainTable
from .domains.host import DomainsHost

MOVE_BINDINGS = [Binding("M", "move_machine", "Move to member", show=False, id="domains.move")]


class MemberPickerScreen(ModalScreen[str | None]):
    """Dismissed with the member's name to move to, or None (esc)."""

    DEFAULT_CSS = """
    MemberPickerScreen { align: center middle; }
    #move-body { width: 70; height: auto; padding: 1 2; background: $panel; border: round $primary; }
    #move-members { height: auto; max-height: 12; }
    #move-note { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="move.cancel")]

    def __init__(self, machine: str, here: str, members: list[incus.ClusterMember]) -> None:
        super().__init__()
        self.machine = machine
        self.here = here
        self.members = sorted(members, key=lambda m: m.server_name)

    def compose(self) -> ComposeResult:
        options = [
            Option(
                f"{m.server_name}  ({m.status or 'unknown'}{', here now' if m.server_name == self.here else ''})",
                id=m.server_name,
                disabled=m.server_name == self.here or not m.online,
            )
            for m in self.members
        ]
        with Vertical(id="move-body"):
            yield Static(f"Move {self.machine} to which member?", id="move-title", markup=False)
            yield OptionList(*options, id="move-members", markup=False)  # names come from Incus
            yield Static("A running machine is stopped, moved and started there. esc: cancel", id="move-note")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#move-members")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class MoveActions(DomainsHost):
    """Mixed into the domains screen: needs `self.result`, `self.incus_url`, `self.report(text)`."""

    def action_move_machine(self) -> None:
        row = self.query_one(DomainTable).selected()
        infra = self.result.infra if self.result is not None else None
        place = None
        if row is not None and infra is not None and not row.is_domain:
            place = next(
                ((d.project, m.instance_name) for d in infra.domains for m in d.machines if m.name == row.name), None
            )
        if row is None or place is None:
            self.app.notify("Select a declared machine to move it.", severity="warning")
            return
        if self._allowed():
            self.pick_member(row.name, *place)

    @work(group="move", exclusive=True)
    async def pick_member(self, machine: str, project: str, instance: str) -> None:
        """Read the members and where the machine is, then offer them."""
        try:
            async with incus.connect(self.incus_url) as client:
                members = await client.cluster_members()
                here = (await client.get_instance(instance, project=project)).location if members else ""
        except incus.IncusError as exc:
            self.report(f"move {machine}: {exc}")
            self.app.notify(str(exc), title="move: failed", severity="error", markup=False)
            return
        if not members:
            said = f"move {machine}: this Incus is not a cluster; a machine moves between the members of one"
            self.report(said)
            self.app.notify(said, title="move: refused", severity="warning", markup=False)
            return

        def chosen(member: str | None) -> None:
            if member is not None:
                self.report(f"move {machine} to {member} …")
                self.run_move(machine, project, instance, member)

        self.app.push_screen(MemberPickerScreen(machine, here, members), chosen)

    @work(group="move")
    async def run_move(self, machine: str, project: str, instance: str, member: str) -> None:
        def progress(step: incus.MoveProgress) -> None:
            self.report(f"move: {step.text}")

        label = f"move {machine} to {member}"
        try:
            async with incus.connect(self.incus_url) as client:
                moving = client.move_instance(project, instance, member, on_progress=progress)
                await host.recorded_call("move", None, moving, (incus.MoveRefused,))
        except incus.MoveRefused as exc:
            self.report(f"{label}: refused: {exc}")
            self.app.notify(str(exc), title="move: refused", severity="warning", markup=False)
        except (incus.MoveFailed, incus.IncusError) as exc:
            self.report(f"{label}: failed: {exc}")
            self.app.notify(str(exc), title="move: failed", severity="error", markup=False)
        else:
            self.report(f"{label}: done")
            self.app.notify(f"{machine} is on {member}", title="move", markup=False)
        self.check()  # the table reads Incus again: the machine's member and state
