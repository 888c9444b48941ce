"""Write the user guide's generated pages from the code, so they cannot drift from it (issue 24):

- docs/reference/rules.md: every validation rule the rule tests exercise, with the message the program gives
  and the failing example those tests use (their CASES tables), run through the real pipeline now;
- docs/reference/verbs.md: every verb's `--help`, as the program prints it;
- docs/reference/schemas.md + docs/reference/schemas/*.json: the `--json` schemas;
- docs/assets/screens/*.svg: the TUI as the snapshot tests see it.

Run by scripts/test.sh before `mkdocs build --strict`; the generated files are not committed.
"""

from __future__ import annotations

import importlib
import io
import os
import shutil
import sys
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["COLUMNS"] = "100"  # argparse wraps help to this width: the same page on every machine

RULE_TABLES = [
    ("tests.psot.test_rules_global", "CASES"),
    ("tests.psot.test_rules_domains_machines", "CASES"),
    ("tests.psot.test_rules_volumes_policies", "CASES"),
    ("tests.psot.test_rules_image_servers", "CASES"),
    ("tests.psot.test_rules_smoke_checks", "CASES"),
    ("tests.psot.test_rules_host_warnings", "WARNING_CASES"),
    ("tests.psot.test_rules_services", "CASES"),
    ("tests.psot.test_rules_services", "WARNING_CASES"),
    ("tests.psot.test_rules_tor_gateway", "CASES"),
    ("tests.psot.test_rules_desktop", "CASES"),
    ("tests.psot.test_rules_desktop", "WARNING_CASES"),
    ("tests.psot.test_rules_placement", "CASES"),
    ("tests.psot.test_rules_incus_target", "CASES"),
    ("tests.psot.test_rules_export_apps_file_portal", "CASES"),
]
SCREENS = [
    ("test_domains_screen", "test_domains_screen_looks_right", "domains"),
    ("test_domains_screen", "test_help_screen_looks_right", "help"),
    ("test_domains_screen", "test_plan_screen_with_an_invalid_infra_looks_right", "plan-invalid"),
    ("test_first_run_guide", "test_the_guide_looks_right", "first-run-guide"),
    ("test_first_run_guide", "test_the_short_form_looks_right", "first-run-form"),
]


def rule_cases() -> list[tuple[str, str]]:
    cases = []
    for module_name, table in RULE_TABLES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        cases += [(case[0], case[1]) for case in getattr(module, table, [])]
    return cases


def findings_for(text: str) -> list[str]:
    from anklume_tui.psot.context import HostContext
    from anklume_tui.psot.pipeline import run_psot

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "infra.yml"
        path.write_text(text, encoding="utf-8")
        result = run_psot(path, HostContext())
        return [(f.rule, f.render().replace(str(path), "infra.yml")) for f in result.findings]


def rules_page() -> str:
    seen: dict[str, list[tuple[str, str]]] = {}
    for rule, text in rule_cases():
        if len(seen.setdefault(rule, [])) < 1:  # the first example of each rule is enough for a reader
            said = [line for found, line in findings_for(text) if found == rule]
            seen[rule].append((text.replace("  # <-", "  # <- here"), said[0] if said else "(see the test)"))
    lines = [
        "# Validation rules",
        "",
        "Generated from the rule tests: for each rule, an infra those tests use that breaks it (the offending",
        "line marked `# <- here`) and what `anklume-tui --batch validate` says about it. `error` blocks sync and",
        "apply; `warning` does not. The full list, with the rules no short example shows, is in SPEC.md §4.",
        "",
    ]
    for rule in sorted(seen, key=lambda r: (r.rstrip("0123456789"), int(r.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") or 0))):
        for text, said in seen[rule]:
            lines += [f"## {rule}", "", "```text", said, "```", "", "```yaml", text.rstrip("\n"), "```", ""]
    return "\n".join(lines)


def verbs_page() -> str:
    from anklume_tui import cli

    lines = ["# Verbs", "", "Every `anklume-tui --batch VERB --help`, as the program prints it.", ""]
    for name in sorted(cli.VERB_TABLE):
        out = io.StringIO()
        with redirect_stdout(out):
            cli._verb_parser(name).print_help()
        lines += [f"## {name}", "", "```text", out.getvalue().rstrip("\n"), "```", ""]
    return "\n".join(lines)


def schemas_page(target: Path) -> str:
    target.mkdir(parents=True, exist_ok=True)
    lines = [
        "# JSON documents",
        "",
        "`--json` prints one document whose shape is a contract: each carries `schema_version`. A run that ends on",
        "an error before printing its own prints the `error` document instead (`ok: false`, the error's `kind`,",
        "`message` and `exit_code`). The schemas:",
        "",
    ]
    for schema in sorted((ROOT / "anklume_tui/schemas").glob("*.json")):
        shutil.copy(schema, target / schema.name)
        lines.append(f"- [`{schema.stem}`](schemas/{schema.name})")
    return "\n".join(lines) + "\n"


def copy_screens(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for module, test, name in SCREENS:
        svg = ROOT / "tests/tui/__snapshots__" / module / f"{test}.svg"
        if svg.is_file():
            shutil.copy(svg, target / f"{name}.svg")


def main() -> None:
    docs = ROOT / "docs"
    (docs / "reference").mkdir(parents=True, exist_ok=True)
    (docs / "reference/rules.md").write_text(rules_page(), encoding="utf-8")
    (docs / "reference/verbs.md").write_text(verbs_page(), encoding="utf-8")
    (docs / "reference/schemas.md").write_text(schemas_page(docs / "reference/schemas"), encoding="utf-8")
    copy_screens(docs / "assets/screens")
    print(f"generated: {docs / 'reference'} (rules, verbs, schemas), {docs / 'assets/screens'}")


if __name__ == "__main__":
    main()
