"""Small shared helpers for psot tests: write an infra as YAML text, load it, pick findings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from textwrap import dedent, indent

import pytest

from anklume_tui.psot.findings import Finding
from anklume_tui.psot.load import LoadedInfra, load_infra

# A minimal valid infra (legacy addressing): one domain, one machine.
MINIMAL = """\
project_name: demo
global:
  base_subnet: "10.100"
domains:
  pro:
    subnet_id: 1
    machines:
      pro-dev:
        ip: 10.100.1.10
"""

DOMAINS = """\
pro:
  subnet_id: 1
  machines:
    pro-dev:
      ip: 10.100.1.10
"""


def infra(global_: str = "", domains: str = DOMAINS, extra: str = "") -> str:
    """An infra text from dedented YAML pieces: `global` body, `domains` body, more top-level keys."""
    global_ = dedent(global_).strip("\n")
    text = "project_name: demo\n"
    text += f"global:\n{indent(global_, '  ')}\n" if global_ else "global: {}\n"
    text += f"domains:\n{indent(dedent(domains).strip(chr(10)), '  ')}\n"
    return text + dedent(extra).strip("\n") + ("\n" if extra.strip() else "")


def load_text(tmp_path: Path, text: str, name: str = "infra.yml") -> LoadedInfra:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_infra(path)


def line_of(text: str, marker: str = "# <-") -> int:
    """1-based line of the first line holding marker (tests tag the offending line with `# <-`)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"marker {marker!r} not in text")


def of_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def assert_flags(findings: list[Finding], rule: str, severity: str, text: str) -> Finding:
    """The rule fired with that severity, located on the line tagged `# <-`."""
    hits = of_rule(findings, rule)
    assert hits, f"no {rule} in {[f.render() for f in findings]}"
    line = line_of(text)
    located = [f for f in hits if f.location is not None and f.location.line == line]
    assert located, f"{rule} not on line {line}: {[f.render() for f in hits]}"
    assert all(f.severity.value == severity for f in hits)
    return located[0]


def case_id(case) -> str:
    """Test id of a (rule, text, fix) case: the rule and the tagged line."""
    marked = next(line for line in case[1].splitlines() if "# <-" in line)
    return f"{case[0]}:{marked.split('#')[0].strip()[:30]}"


def structural_findings(tmp_path: Path, text: str) -> list[Finding]:
    from anklume_tui.psot.validate import validate_structure

    loaded = load_text(tmp_path, text)
    return validate_structure(loaded.data, loaded.source)


def assert_case_fails(tmp_path: Path, rule: str, text: str) -> None:
    assert_flags(structural_findings(tmp_path, text), rule, "error", text)


def assert_fixed_case_passes(tmp_path: Path, text: str, fix: tuple[str, str]) -> None:
    fixed = text.replace(*fix)
    assert fixed != text
    findings = structural_findings(tmp_path, fixed)
    assert not findings, [f.render() for f in findings]


RuleCase = tuple[str, str, tuple[str, str]]


def rule_case_tests(cases: list[RuleCase]) -> tuple[Callable[..., None], Callable[..., None]]:
    """The two tests every table of (rule, tagged text, fix) cases gets: the rule fires as an error on the
    tagged line, and the fixed text passes every rule. Bind them to test_* names in the test module."""
    each_case = pytest.mark.parametrize(("rule", "text", "fix"), cases, ids=[case_id(c) for c in cases])

    @each_case
    def fails(tmp_path: Path, rule: str, text: str, fix: tuple[str, str]) -> None:
        assert_case_fails(tmp_path, rule, text)

    @each_case
    def fixed_passes(tmp_path: Path, rule: str, text: str, fix: tuple[str, str]) -> None:
        assert_fixed_case_passes(tmp_path, text, fix)

    return fails, fixed_passes
