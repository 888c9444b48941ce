"""The command line does not look pydantic's plugins up (anklume_tui/pydantic_plugins.py, issue 17): a verb builds
and validates its models without importing importlib.metadata; a PYDANTIC_DISABLE_PLUGINS the user set is
theirs (pydantic's own loader then runs); a name of pydantic's loader the stand-in lacks comes from the real one.
Each case is a fresh interpreter, as the start of `anklume-tui` is."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BUILD = """
import json, sys
from anklume_tui.pydantic_plugins import skip_plugin_lookup
skip_plugin_lookup()
from pydantic import BaseModel, ValidationError
from pydantic.plugin._loader import get_plugins

class Probe(BaseModel):
    n: int

try:
    Probe(n="x")
    refused = False
except ValidationError:
    refused = True
print(json.dumps({
    "value": Probe(n="3").n,
    "refused": refused,
    "plugins": list(get_plugins()),
    "metadata_imported": "importlib.metadata" in sys.modules,
    "switch": __import__("os").environ.get("PYDANTIC_DISABLE_PLUGINS"),
}))
"""


def _run(code: str, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=base | env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


def test_models_validate_without_importing_importlib_metadata():
    seen = _run(BUILD)
    assert seen == {"value": 3, "refused": True, "plugins": [], "metadata_imported": False, "switch": "__all__"}


def test_a_switch_the_user_set_is_kept_and_pydantic_looks_plugins_up():
    seen = _run(BUILD, PYDANTIC_DISABLE_PLUGINS="")
    assert seen["switch"] == ""
    assert seen["metadata_imported"] is True  # pydantic's own loader ran its lookup
    assert seen["value"] == 3 and seen["refused"] is True


def test_a_name_the_stand_in_lacks_comes_from_pydantics_loader():
    code = (
        "import json\n"
        "from anklume_tui.pydantic_plugins import skip_plugin_lookup\n"
        "skip_plugin_lookup()\n"
        "from pydantic.plugin._loader import PYDANTIC_ENTRY_POINT_GROUP\n"
        "print(json.dumps({'group': PYDANTIC_ENTRY_POINT_GROUP}))\n"
    )
    assert _run(code) == {"group": "pydantic"}


def test_a_verb_checks_its_infra_without_importing_importlib_metadata(tmp_path):
    """The whole command line: `validate --json` of a shipped example (no Incus needed)."""
    shutil.copy(ROOT / "examples" / "developer" / "infra.yml", tmp_path / "infra.yml")
    code = (
        "import sys, json, io, contextlib\n"
        "from anklume_tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = main(['--batch', 'validate', '--infra', {str(tmp_path / 'infra.yml')!r}, '--json'])\n"
        "print(json.dumps({'code': code, 'valid': json.loads(out.getvalue())['valid'],"
        " 'metadata_imported': 'importlib.metadata' in sys.modules}))\n"
    )
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    assert _run(code, **env) == {"code": 0, "valid": True, "metadata_imported": False}
