"""Keys of the domains screen that open the monitoring screens: GPUs (G) and telemetry (U). Hidden from the
footer; the palette, `:gpu` / `:telemetry` and help list them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from .host import DomainsHost

if TYPE_CHECKING:
    from ...engine.host import MetricsHistory

MONITOR_BINDINGS = [
    Binding("G", "gpu", "GPUs", show=False, id="domains.gpu"),
    Binding("U", "telemetry", "Telemetry and usage history", show=False, id="domains.telemetry"),
]


class MonitorKeys(DomainsHost):
    """Mixed into the domains screen: needs `self.result` and `self.incus_url`."""

    metrics_history: MetricsHistory | None = None  # kept between visits of the telemetry screen

    # The screens are imported when first opened: their charts (textual-plotext) would slow the first paint.
    def action_gpu(self) -> None:
        from ..gpu import GpuScreen

        infra = self.result.infra if self.result is not None else None
        self.app.push_screen(GpuScreen(self.incus_url, infra.gpu_policy if infra is not None else None))

    def action_telemetry(self) -> None:
        from ...engine.host import MetricsHistory
        from ..telemetry import TelemetryScreen

        if self.metrics_history is None:
            self.metrics_history = MetricsHistory()
        self.app.push_screen(TelemetryScreen(self.incus_url, self.metrics_history))
