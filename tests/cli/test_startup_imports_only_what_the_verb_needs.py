"""Start-up imports only what the chosen verb needs (issue 17): `--help` and `--version` import no verb, no
engine and no heavy library; each `--batch VERB --help` imports no other verb and none of the TUI's or
provisioning's libraries; `validate`, `status --json` and `plan --json` run end to end without them (status
and plan on the throwaway daemon). Each case is a fresh `anklume-tui` process that writes its sys.modules."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from anklume_tui.cli import VERB_TABLE
from tests.engine.incus_helpers import isolate_host

ROOT = Path(__file__).resolve().parents[2]
# a batch verb that is not the TUI, `provision`, `apply` or `console` has no use for these
NOT_FOR_BATCH = ("textual", "ansible_runner", "ansible", "libtmux", "plotext")
NOT_FOR_HELP = (*NOT_FOR_BATCH, "pydantic", "httpx", "rich", "ruamel", "yaml", "asyncio")
HTTPX_CLI = ("rich", "click", "pygments")  # what httpx imports for its command line, unless told not to
LISTED = "import json, sys; print(json.dumps(sorted(m for m, v in sys.modules.items() if v)))"
VERB_MODULES = {f"anklume_tui.verbs.{module}" for module, _ in VERB_TABLE.values()}
WRAPPER = """
import atexit, sys
atexit.register(lambda: open(sys.argv[1], "w").write("\\n".join(sorted(m for m, v in sys.modules.items() if v))))
from anklume_tui.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _run(tmp_path: Path, *argv: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """`anklume-tui ARGV` in a process of its own: what it did, and every module it had imported at exit (not
    the None entries: imports refused)."""
    listing = tmp_path / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(listing), *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, set(listing.read_text().split())


def _among(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.fixture(autouse=True)
def _own_host(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_no_verb_no_engine_no_heavy_library(flag, tmp_path):
    done, modules = _run(tmp_path, flag)
    assert done.returncode == 0, done.stderr
    assert _among(modules, ("anklume_tui.verbs", "anklume_tui.engine", "anklume_tui.psot", "anklume_tui.reports")) == []
    assert _among(modules, NOT_FOR_HELP) == []
    if flag == "--version":
        assert done.stdout == f"anklume-tui {importlib.metadata.version('anklume-tui')}\n"
        assert re.fullmatch(r"anklume-tui \d+\.\d+\.\d+\S*\n", done.stdout)
    else:
        assert all(name in done.stdout for name in VERB_TABLE)


@pytest.mark.parametrize("verb", sorted(VERB_TABLE))
def test_a_verbs_help_imports_no_other_verb_and_no_tui_or_ansible(verb, tmp_path):
    done, modules = _run(tmp_path, "--batch", verb, "--help")
    assert done.returncode == 0 and done.stdout.startswith(f"usage: anklume-tui --batch {verb} "), done.stderr
    own = f"anklume_tui.verbs.{VERB_TABLE[verb][0]}"
    assert own in modules
    others = sorted((modules & VERB_MODULES) - {own})
    if verb == "apply":  # apply prints its plan and its provisioning summary as those verbs do
        others = [m for m in others if m not in ("anklume_tui.verbs.plan", "anklume_tui.verbs.provision")]
    if verb == "import-infra":  # the active infra's prefix, as flush finds it
        others = [m for m in others if m != "anklume_tui.verbs.flush"]
    assert others == []
    assert _among(modules, NOT_FOR_BATCH) == []


def test_validate_runs_without_tui_ansible_nor_the_reconcile_engine(tmp_path):
    shutil.copy(ROOT / "examples" / "developer" / "infra.yml", tmp_path / "infra.yml")
    done, modules = _run(tmp_path, "--batch", "validate", "--json")
    assert done.returncode == 0 and '"valid": true' in done.stdout, done.stderr
    assert _among(modules, NOT_FOR_BATCH) == []
    # no Incus here: the client is made but, with no socket to talk to, never imports httpx (nor its own CLI)
    assert _among(modules, ("httpx", *HTTPX_CLI)) == []
    # what was applied is read through the allocation module alone, not apply, plan, isolation or provisioning
    assert _among(modules, ("anklume_tui.engine.isolation", "anklume_tui.engine.provision")) == []
    assert _among(modules, ("anklume_tui.engine.reconcile",)) == [
        "anklume_tui.engine.reconcile",
        "anklume_tui.engine.reconcile.allocation",
    ]


@pytest.mark.incus
@pytest.mark.parametrize("verb", ["status", "plan", "validate"])
def test_status_plan_and_validate_on_the_daemon_run_without_tui_nor_ansible(verb, incusd, tmp_path):
    shutil.copy(ROOT / "examples" / "developer" / "infra.yml", tmp_path / "infra.yml")
    done, modules = _run(tmp_path, "--incus", incusd.url, "--batch", verb, "--json")
    assert done.returncode == 0 and '"schema_version"' in done.stdout, done.stderr
    if verb == "validate":  # what was applied is read from the local Incus without the client
        assert _among(modules, ("httpx", "asyncio", "anklume_tui.engine.incus.client")) == []
    assert _among(modules, NOT_FOR_BATCH) == []
    assert _among(modules, HTTPX_CLI) == []
    assert _among(modules, ("anklume_tui.engine.provision", "anklume_tui.engine.machines")) == []
    if verb == "status":  # reads and shows: no event stream, no tree writer, no other verb's reports
        assert _among(modules, ("websockets", "anklume_tui.psot.generate", "anklume_tui.psot.inventory_contract")) == []
        # on a local socket Incus is read before the client is imported, and the client is never needed
        assert _among(modules, ("httpx", "httpcore", "anyio", "asyncio", "anklume_tui.engine.incus.client")) == []
        # nor pydantic's plugin lookup (anklume_tui/pydantic_plugins.py)
        assert _among(modules, ("importlib.metadata", "email", "zipfile")) == []
        assert _among(modules, ("anklume_tui.reports",)) == [
            "anklume_tui.reports",
            *(f"anklume_tui.reports.{m}" for m in ("base", "isolation", "provision", "reconcile")),
        ]


def test_the_tui_paints_its_first_rows_before_importing_the_model_reports_or_incus_client(tmp_path):
    """What the domains view needs for its first rows (the outline) is all the app imports at start: the check
    (models, rules), the reports and the Incus client are imported by its workers after the first paint."""
    shown = subprocess.run(
        [sys.executable, "-c", f"import anklume_tui.app; {LISTED}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    modules = set(json.loads(shown.stdout))
    heavy = ("pydantic", "httpx", "ruamel", "websockets", "ansible_runner", "libtmux", "plotext")
    assert _among(modules, heavy) == []
    # the engine.incus package itself is there (its names resolve on first use), none of its modules
    ours = ("anklume_tui.psot.pipeline", "anklume_tui.psot.model", "anklume_tui.reports", "anklume_tui.engine.incus.")
    assert sorted(m for m in modules if m.startswith(ours)) == []
