"""A sync of an unchanged infra into the tree the last sync left (issue 17) reads its check back and knows the
tree from its record (psot/tree_record.py): it imports neither the check (pipeline, rules, model building, the
YAML parser) nor the tree's writer (generate, its YAML emitter, the inventory contract, orphans) nor the reports,
and says what a sync that read every file says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

INFRA = """\
project_name: lab
global:
  addressing: {}
domains:
  work:
    trust_level: trusted
    machines:
      work-dev: {}
      work-db: {}
"""
WRAPPER = """
import atexit, sys
atexit.register(lambda: open(sys.argv[1], "w").write("\\n".join(sorted(m for m, v in sys.modules.items() if v))))
from anklume_tui.cli import main
sys.exit(main(sys.argv[2:]))
"""
NOT_WHEN_WARM = (
    "anklume_tui.psot.generate",
    "anklume_tui.psot.yaml_emit",
    "anklume_tui.psot.inventory_contract",
    "anklume_tui.psot.orphans",
    "anklume_tui.psot.pipeline",
    "anklume_tui.psot.validate",
    "anklume_tui.psot.enrich",
    "anklume_tui.reports",
    "anklume_tui.psot.yaml_nodes",
    "yaml",
    "ruamel",
)


def sync(tmp_path: Path) -> tuple[subprocess.CompletedProcess, set[str]]:
    env = dict(
        os.environ,
        ANKLUME_SKIP_HOST_SUBNET_CHECK="1",
        ANKLUME_CONTEXT_DIR=str(tmp_path / "no-context"),
        ANKLUME_INCUS="unix:///nonexistent/unix.socket",
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    env.pop("ANKLUME_INFRA", None)
    listing = tmp_path / "modules.txt"
    argv = ["--batch", "sync", "--infra", str(tmp_path / "infra.yml"), "--out", str(tmp_path / "out")]
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(listing), *argv], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done, set(listing.read_text().split())


def among(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_a_warm_sync_imports_no_check_no_writer_and_says_the_same(tmp_path):
    (tmp_path / "infra.yml").write_text(INFRA)
    cold, modules = sync(tmp_path)
    assert "anklume_tui.psot.generate" in modules
    assert cold.stderr.endswith("5 file(s) written, 0 unchanged, 0 orphan(s)\n")
    tree = {path: path.read_bytes() for path in (tmp_path / "out").rglob("*.yml")}
    for _ in range(2):  # the files just written are read once more (recent), then known by status alone
        warm, modules = sync(tmp_path)
        assert among(modules, NOT_WHEN_WARM) == []
        assert warm.stdout == "" and warm.stderr.endswith("0 file(s) written, 5 unchanged, 0 orphan(s)\n")
        assert {path: path.read_bytes() for path in (tmp_path / "out").rglob("*.yml")} == tree
    edited = tmp_path / "out" / "host_vars" / "work-dev.yml"
    edited.write_bytes(tree[edited].replace(b"instance_name: work-dev", b"instance_name: work-deX"))
    put_right, modules = sync(tmp_path)
    assert put_right.stdout == f"Written: {edited}\n" and "anklume_tui.psot.generate" in modules
    assert edited.read_bytes() == tree[edited]
