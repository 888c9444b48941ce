"""Collect logs, offered by the palette on the domains screen: for every domain, or for the selected one."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .host import DomainsHost

PaletteCommand = tuple[str, str, Callable[[], object]]


class LogsActions(DomainsHost):
    """Mixed into the domains screen: needs `result`, `incus_url`, `_selected_domain()`."""

    def palette_commands(self) -> Iterator[PaletteCommand]:
        """Commands the palette lists for this screen beside its keys (app.get_system_commands)."""
        yield (
            "Collect logs",
            "every machine's journal and Incus log, the last provisioning log and the apply journal, in one "
            "archive; secrets redacted",
            lambda: self.call_later(self.action_collect_logs),
        )
        domain = self._selected_domain()
        if domain is not None:
            yield (
                f"Collect logs of domain {domain}",
                f"the logs of {domain}'s machines only (collect-logs --limit {domain})",
                lambda: self.call_later(self.action_collect_logs, domain),
            )

    # The screen is imported when first opened: it brings tarfile and the logs engine.
    def action_collect_logs(self, domain: str = "") -> None:
        from ..collect_logs import CollectLogsScreen

        if self.result is None or self.result.infra is None:
            self.app.notify(
                "The infra is not checked or invalid: fix it first (p shows the errors).", severity="warning"
            )
            return
        self.app.push_screen(CollectLogsScreen(self.result.infra, domain or None, self.incus_url))
