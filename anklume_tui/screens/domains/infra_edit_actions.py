"""Editing the infra from the domains screen: `e` edits the selection, `a` adds a machine, `delete` removes.

`a` adds a machine to the selected domain (or to the selected machine's domain); with no domain at all,
or through `:add-domain`, it adds a domain. Files are read and written in workers; a save reloads the view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding

from ...engine import host
from ...widgets.domain_table import DomainTable
from ..confirm import ConfirmScreen
from .host import DomainsHost

if TYPE_CHECKING:
    from ..infra_form import EditRequest

# The form, the YAML round-trip editing and the model are imported on the first edit: they would only slow the
# first paint of the domains view.

EDIT_BINDINGS = [
    Binding("e", "edit_infra", "Edit in the infra file", show=False, id="domains.edit"),
    Binding(
        "a", "add_to_infra", "Add a machine to the domain (:add-domain for a domain)", show=False, id="domains.add"
    ),
    Binding("delete", "remove_from_infra", "Remove from the infra file", show=False, id="domains.remove"),
]


def declared_domains(data: object) -> dict:
    domains = data.get("domains") if isinstance(data, dict) else None
    return domains if isinstance(domains, dict) else {}


def find_declared(data: object, name: str) -> tuple[str, str | None, dict] | None:
    """(kind, domain of a machine, declared values) of the domain or machine called `name`."""
    domains = declared_domains(data)
    if isinstance(domains.get(name), dict) or (name in domains and domains[name] is None):
        return "domain", None, domains[name] or {}
    for dname, domain in domains.items():
        machines = domain.get("machines") if isinstance(domain, dict) else None
        if isinstance(machines, dict) and name in machines:
            values = machines[name]
            return "machine", dname, values if isinstance(values, dict) else {}
    return None


class InfraEditing(DomainsHost):
    """Mixed into the domains screen: needs `self.result`, `self.infra`, `self.report(text)`, `self.check()`,
    and from its other actions `self._allowed()` (not read-only) and `self._selected_domain()`."""

    def _may_edit(self) -> bool:
        return self._editable_data() is not None

    def _editable_data(self) -> object:
        """The infra as loaded when it may be edited, else None (and the user is told why)."""
        if not self._allowed():
            return None
        if self.result is None or self.result.loaded.data is None:
            self.app.notify("The infra is not loaded (see its errors): fix it in an editor first.", severity="warning")
            return None
        return self.result.loaded.data

    def _selected_name(self, name: str = "") -> str:
        if name:
            return name
        row = self.query_one(DomainTable).selected()
        return row.name if row is not None else ""

    def action_edit_infra(self, name: str = "") -> None:
        data = self._editable_data()
        if data is None:
            return
        name = self._selected_name(name)
        found = find_declared(data, name) if name else None
        if found is None:
            self.app.notify(f"{name or 'Nothing selected'}: not declared in the infra.", severity="warning")
            return
        kind, domain, values = found
        from ..infra_form import EditRequest

        self.open_form(EditRequest(kind, name, domain, dict(values)))

    def action_add_to_infra(self) -> None:
        data = self._editable_data()
        if data is None:
            return
        name = self._selected_name()
        found = find_declared(data, name) if name else None
        if found is None:
            self.action_add_domain()
            return
        kind, domain, _ = found
        self.action_add_machine(name if kind == "domain" else domain)

    def action_add_domain(self) -> None:
        from ..infra_form import EditRequest

        if self._may_edit():
            self.open_form(EditRequest("domain", None, None, {}))

    def action_add_machine(self, domain: str | None = "") -> None:
        data = self._editable_data()
        if data is None:
            return
        domain = domain or self._selected_domain() or ""
        if domain not in declared_domains(data):
            self.app.notify(f"No domain {domain!r} to add a machine to: select one.", severity="warning", markup=False)
            return
        from ..infra_form import EditRequest

        self.open_form(EditRequest("machine", None, domain, {}))

    def action_remove_from_infra(self) -> None:
        data = self._editable_data()
        if data is None:
            return
        name = self._selected_name()
        found = find_declared(data, name) if name else None
        if found is None:
            self.app.notify(f"{name or 'Nothing selected'}: not declared in the infra.", severity="warning")
            return
        kind = found[0]
        what = f"domain {name} and all its machines" if kind == "domain" else f"machine {name}"
        question = (
            f"Remove {what} from {self.infra}?\n\nOnly the infra file changes: Incus keeps the instances "
            "until `apply --prune` deletes them (protected ones never)."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.report(f"remove {what} from the infra …")
                self.remove_declared(kind, name)

        self.app.push_screen(ConfirmScreen(question, yes="Remove"), answered)

    @work(thread=True, exclusive=True, group="infra-edit")
    def open_form(self, request: EditRequest) -> None:
        """Read the files and the host context (IO), then show the form."""
        from ...psot.infra_edit import EditRefused, read_infra_files
        from ..infra_form import InfraForm

        try:
            files = read_infra_files(self.infra)
        except EditRefused as exc:
            self.app.call_from_thread(self.app.notify, str(exc), severity="error", markup=False)
            return
        ctx = host.gather_host_context()

        def saved(done: bool | None) -> None:
            if done:
                self.report(f"infra saved ({request.title.lower()})")
                self.check()

        self.app.call_from_thread(self.app.push_screen, InfraForm(request, files, ctx), saved)

    @work(thread=True, exclusive=True, group="infra-edit")
    def remove_declared(self, kind: str, name: str) -> None:
        from ...psot.infra_candidate import save
        from ...psot.infra_edit import EditRefused, read_infra_files, remove_domain, remove_machine

        try:
            files = read_infra_files(self.infra)
            changes = (remove_domain if kind == "domain" else remove_machine)(files, name)
            save(files, changes, host.gather_host_context())
        except (EditRefused, OSError) as exc:
            self.app.call_from_thread(self.report, f"{kind} {name} not removed: {exc}")
            self.app.call_from_thread(self.app.notify, str(exc), title="Not removed", severity="error", markup=False)
            return
        self.app.call_from_thread(self.report, f"{kind} {name} removed from the infra")
        self.app.call_from_thread(self.check)
