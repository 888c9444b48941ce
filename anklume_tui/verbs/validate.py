"""`validate`: load and validate; write nothing."""

from __future__ import annotations

import argparse
import sys

from .. import exitcodes
from ..reports import ValidateReport
from .common import add_infra_arguments, check_infra, emit_json, findings_out, print_findings, summary

HELP = "load and validate the infra; report errors and warnings; write nothing"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)


def run(args: argparse.Namespace) -> int:
    result = check_infra(args)
    if args.json:
        emit_json(ValidateReport(**findings_out(result)))
    else:
        print_findings(result.findings, sys.stdout)
        print(summary(result), file=sys.stderr)
    return exitcodes.OK if result.valid else exitcodes.INVALID
