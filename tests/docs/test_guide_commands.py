"""Every shell command of the user guide runs, in page order, against the throwaway daemon, with the files the
page shows written first; its exit code and the lines it shows must match (issue 24). A guide that no longer
matches the program fails CI.

What the test changes, as the example tests do (tests/provision/example_helpers.py): a file's `images:` image
becomes the locally imported stand-in (the daemon's namespace has no route out), and after each command the
generated group_vars/all.yml says `anklume_offline: true` (roles take their offline path). Each page runs in a
folder of its own where `examples/` is the shipped examples, as in a checkout.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.guide_blocks import Command, File, blocks, shows
from tests.engine.apply_helpers import batch_env
from tests.host_root_helpers import stock_debian_root
from tests.provision.example_helpers import OFFLINE_VARS, STAND_IN, import_stand_in

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# The French pages are not run again: test_french_pages proves they hold the same commands and files.
PAGES = sorted(
    p
    for p in DOCS.rglob("*.md")
    if not {"reference", "fr"} & set(p.relative_to(DOCS).parts) and any(isinstance(b, Command) for b in blocks(p))
)
IMAGE = re.compile(r"\bimages:[\w./-]+")


def _offline(folder: Path) -> None:
    all_vars = folder / "group_vars" / "all.yml"
    if all_vars.is_file() and OFFLINE_VARS not in all_vars.read_text():
        with all_vars.open("a") as out:
            out.write(OFFLINE_VARS)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_every_command_of_the_page_runs_as_shown(page, incusd, tmp_path):
    import_stand_in(incusd)
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "examples").symlink_to(ROOT / "examples")
    env = batch_env(incusd, tmp_path / "state", context_dir=tmp_path / "context")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["ANKLUME_HOST_ROOT"] = str(stock_debian_root(tmp_path / "root"))
    env.pop("ANKLUME_NFT_PERSIST_DIR", None)
    env["COLUMNS"] = "100"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # no assistant.toml or keymap of the user running the tests
    for item in blocks(page):
        if isinstance(item, File):
            target = folder / item.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(IMAGE.sub(STAND_IN, item.text))
            continue
        done = subprocess.run(["sh", "-c", item.line], cwd=folder, env=env, capture_output=True, text=True, timeout=900)
        output = done.stdout + done.stderr
        where = f"{page.relative_to(ROOT)}: `{item.line}`"
        assert done.returncode == item.exit_code, f"{where} exited {done.returncode}:\n{output[-4000:]}"
        missing = shows(output, item.expected)
        assert missing is None, f"{where} did not show {missing!r}:\n{output[-4000:]}"
        for written in folder.glob("*.yml"):  # an example copied by a command: the stand-in image too
            text = written.read_text()
            if IMAGE.search(text):
                written.write_text(IMAGE.sub(STAND_IN, text))
        _offline(folder)
