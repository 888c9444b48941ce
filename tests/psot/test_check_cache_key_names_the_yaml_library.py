"""The check cache's key names the YAML library by its files (psot/check_cache.py), found without importing it
(issue 17): another PyYAML, or its C extension gained or lost, is another key, as its version was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SIGNATURE = """
import sys
from anklume_tui.psot.check_cache import _yaml_signature
print(_yaml_signature())
assert "yaml" not in sys.modules, "yaml was imported"
"""


def signature(site: Path) -> str:
    """The signature in a process whose `yaml` is the package under `site`."""
    env = dict(os.environ, PYTHONPATH=str(site))
    done = subprocess.run([sys.executable, "-c", SIGNATURE], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_another_yaml_library_or_its_c_extension_is_another_key(tmp_path):
    package = tmp_path / "yaml"
    package.mkdir()
    (package / "__init__.py").write_text("__version__ = '6.0.1'\n")
    first = signature(tmp_path)
    assert "__init__.py" in first
    (package / "__init__.py").write_text("__version__ = '6.0.20'\n")
    second = signature(tmp_path)
    assert second != first
    (package / "_yaml.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\0")
    assert signature(tmp_path) not in (first, second)
