"""The floor of the TUI start-up line: the least Textual app showing the same 1,050 rows (50 domains x 20 machines)
in one DataTable with the domains view's nine columns. Run as a whole process: `python minimal_textual_table.py`."""

from textual.app import App, ComposeResult
from textual.widgets import DataTable

COLUMNS = ("name", "trust", "type", "ip", "state", "cpu", "memory", "snaps", "drift")


class MinimalTable(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        rows = []
        for d in range(50):
            rows.append((f"dom{d:02d}", "trusted", "", f"10.1{d:02d}.0.0/24", "", "", "", "", ""))
            rows += [(f"   dom{d:02d}-m{m:02d}", "trusted", "lxc", "", "…", "", "", "", "") for m in range(20)]
        table.add_rows(rows)


if __name__ == "__main__":
    MinimalTable().run()
