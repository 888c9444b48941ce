"""`telemetry on|off|status|clear|report`: the local, opt-in usage log (SPEC §10.7).

Every batch verb run through `--batch` is recorded while telemetry is on (save `telemetry` itself), and so are
the TUI's apply, provisioning and machine actions.
"""

from __future__ import annotations

import argparse
import shutil
import sys

from .. import exitcodes
from ..reports import TelemetryReport
from .common import emit_json

HELP = (
    "local, opt-in usage log (off by default; nothing leaves the machine; while on, every --batch verb but "
    "telemetry, and the TUI's apply, provisioning and machine actions, add one line): on, off, status, clear, "
    "report (counts, success rate and mean duration per "
    "operation, drawn with plotext on a terminal, a plain table otherwise)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("on", "off", "status", "clear", "report"))
    parser.add_argument("--json", action="store_true", help="status/report: print one JSON document on stdout")


def run(args: argparse.Namespace) -> int:
    from ..engine.host import (
        clear_telemetry,
        disable_telemetry,
        enable_telemetry,
        telemetry_log_file,
        telemetry_summary,
    )

    if args.action == "on":
        enable_telemetry()
        log = telemetry_log_file()
        print(f"telemetry on: each operation (batch verb or TUI action) adds a line to {log}")
    elif args.action == "off":
        disable_telemetry()
        print("telemetry off (the existing log is kept; `telemetry clear` deletes it)")
    elif args.action == "clear":
        existed = clear_telemetry()
        print("usage log deleted" if existed else "no usage log to delete")
    else:
        report = telemetry_summary()
        if args.json:
            emit_json(report)
        elif args.action == "status":
            print(render_status(report))
        else:
            print(render_report(report, charts=sys.stdout.isatty()))
    return exitcodes.OK


def render_status(report: TelemetryReport) -> str:
    state = "on" if report.enabled else "off"
    return f"telemetry {state}; {report.events} event(s) in {report.log_file}"


def render_table(report: TelemetryReport) -> str:
    columns = ("OPERATION", "RUNS", "SUCCESS", "MEAN SECONDS")
    rows = [
        (s.target, str(s.count), f"{s.success_rate:.0%}", f"{s.mean_duration_seconds:.2f}") for s in report.operations
    ]
    widths = [max(len(row[i]) for row in [columns, *rows]) for i in range(len(columns))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [columns, *rows]
    )


def render_charts(report: TelemetryReport) -> str:
    import plotext as plt

    names = [s.target for s in report.operations]
    width = max(40, min(100, shutil.get_terminal_size((80, 24)).columns))
    height = max(6, len(names) * 2 + 4)
    charts = []
    for title, values in (
        ("runs per operation", [s.count for s in report.operations]),
        ("success rate (%) per operation", [round(s.success_rate * 100) for s in report.operations]),
        ("mean duration (s) per operation", [s.mean_duration_seconds for s in report.operations]),
    ):
        plt.clear_figure()
        plt.theme("clear")
        plt.bar(names, values, orientation="horizontal", width=0.4)
        plt.title(title)
        plt.plotsize(width, height)
        charts.append(plt.build())
    return "\n".join(charts)


def render_report(report: TelemetryReport, charts: bool) -> str:
    head = render_status(report)
    if report.unreadable_lines:
        head += f" ({report.unreadable_lines} unreadable line(s) skipped)"
    if not report.operations:
        return head + "\nnothing recorded yet" + ("" if report.enabled else " (`telemetry on` starts recording)")
    body = f"{render_charts(report)}\n{render_table(report)}" if charts else render_table(report)
    return f"{head}\n{body}"
