"""With an infra of the user's and Incus not ready, the host set-up is offered (issue 18) once the domains view
shows its first rows, not beside the first paint (issue 17: the readiness check imports the Incus client)."""

from __future__ import annotations

import shutil
from pathlib import Path

from anklume_tui.app import AnklumeApp
from anklume_tui.screens.domains.screen import DomainsScreen
from anklume_tui.screens.first_run import HostSetupScreen
from anklume_tui.widgets.domain_table import DomainTable
from tests.engine.incus_helpers import isolate_host
from tests.wait_helpers import until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "developer" / "infra.yml"
NO_INCUS = "unix:///nonexistent/anklume-setup/unix.socket"


async def test_an_unreachable_incus_offers_the_set_up_over_the_painted_rows(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    infra = tmp_path / "infra.yml"
    shutil.copy(EXAMPLE, infra)
    app = AnklumeApp(infra, incus_url=NO_INCUS, guide=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HostSetupScreen), what="the set-up screen", timeout=30)
        setup = app.screen
        await until(pilot, lambda: setup.state != "planning", what="the set-up planned", timeout=30)
        domains = next(s for s in app.screen_stack if isinstance(s, DomainsScreen))
        assert domains.query_one(DomainTable).row_count > 0  # the rows were painted under it
        assert len([s for s in app.screen_stack if isinstance(s, HostSetupScreen)]) == 1  # offered once
