"""The clipboard between domains from keys (issue 21): `y` copies the selected machine's clipboard into the TUI's
own buffer (memory, gone when the TUI ends), `P` pastes that buffer into the selected machine's clipboard, where
the infra's clipboard rule allows it. The engine checks the rule and logs the transfer; the notification says
what moved and where, or why not, never the text. Work happens in a thread worker, off the UI thread."""

from __future__ import annotations

import asyncio

from textual import work
from textual.binding import Binding

from ...engine import desktop, incus
from ...errors import AnklumeError
from ...widgets.domain_table import DomainTable
from .host import DomainsHost

CLIPBOARD_BINDINGS = [
    Binding("y", "clipboard('copy')", "Copy the machine's clipboard", show=False, id="domains.clipboard_copy"),
    Binding("P", "clipboard('paste')", "Paste into the machine's clipboard", show=False, id="domains.clipboard_paste"),
]


class ClipboardActions(DomainsHost):
    """Mixed into the domains screen."""

    _clipboard: desktop.MemoryBuffer | None = None

    def action_clipboard(self, op: str) -> None:
        row = self.query_one(DomainTable).selected()
        if row is None or row.is_domain or self.result is None or self.result.infra is None:
            self.app.notify("Select a machine: the clipboard is copied from one machine, pasted into another.")
            return
        if not self._allowed():
            return
        if self._clipboard is None:
            self._clipboard = desktop.MemoryBuffer()
        self.report(f"clipboard {op} {row.name} …")
        self.run_clipboard(op, row.name)

    @work(thread=True, group="clipboard", exclusive=True)
    def run_clipboard(self, op: str, machine: str) -> None:
        assert self.result is not None and self.result.infra is not None and self._clipboard is not None
        infra, buffer = self.result.infra, self._clipboard
        transfer = desktop.copy_from_machine if op == "copy" else desktop.paste_into_machine

        async def move() -> desktop.Transfer:
            async with incus.connect(self.incus_url) as client:
                return await transfer(client, infra, machine, buffer, desktop.clipboard_log_file())

        title = f"clipboard {op}"
        try:
            done = asyncio.run(move())
        except desktop.ClipboardRefused as exc:
            self._said(exc.user_message(), title, "warning")
        except (AnklumeError, incus.IncusError) as exc:
            self._said(str(exc), title, "error")
        else:
            self._said(said(done), title, "information")

    def _said(self, text: str, title: str, severity: str) -> None:
        self.app.call_from_thread(self.report, f"{title}: {text}")
        self.app.call_from_thread(self.app.notify, text, title=title, severity=severity, markup=False)


def said(done: desktop.Transfer) -> str:
    """What moved, in words: sizes, machines, domains, channels; never the text."""
    source = done.source
    assert source is not None
    if done.op == "copy":
        return f"copied {done.size} bytes from {source.machine} ({source.domain}, {source.channel}) to the TUI's buffer"
    target = done.target
    assert target is not None
    return (
        f"pasted {done.size} bytes from {source.machine} ({source.domain}) into {target.machine} "
        f"({target.domain}, {target.channel})"
    )
