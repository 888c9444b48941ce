"""Plotext charts of the telemetry screen; each keeps the data it was last given (what tests look at)."""

from __future__ import annotations

from textual_plotext import PlotextPlot


class BarChart(PlotextPlot):
    """Horizontal bars, one per label (an operation of the usage log)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.heading = ""
        self.labels: list[str] = []
        self.values: list[float] = []

    def show(self, title: str, labels: list[str], values: list[float]) -> None:
        self.heading, self.labels, self.values = title, list(labels), list(values)
        plt = self.plt
        plt.clear_figure()
        if labels:
            plt.bar(self.labels, self.values, orientation="horizontal", width=0.4)
        plt.title(title)
        self.refresh()


class HistoryChart(PlotextPlot):
    """A line over time: x in seconds before the last point."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.heading = ""
        self.xs: list[float] = []
        self.ys: list[float] = []

    def show(self, title: str, xs: list[float], ys: list[float]) -> None:
        self.heading, self.xs, self.ys = title, list(xs), list(ys)
        plt = self.plt
        plt.clear_figure()
        if xs:
            plt.plot(self.xs, self.ys, marker="braille")
        plt.title(title)
        plt.xlabel("seconds ago")
        self.refresh()
