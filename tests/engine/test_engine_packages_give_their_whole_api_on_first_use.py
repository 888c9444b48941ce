"""Engine packages import their modules on first use (anklume_tui/lazy_exports.py): every name of a package's
`__all__` is still there, is the object its module defines, and no name is shadowed by a module of the same
name (a submodule imported later would replace it on the package)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest

import anklume_tui.engine

PACKAGES = sorted(
    f"anklume_tui.engine.{info.name}" for info in pkgutil.iter_modules(anklume_tui.engine.__path__) if info.ispkg
)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves_to_its_modules_object(package):
    module = importlib.import_module(package)
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    assert set(module.__all__).isdisjoint(submodules)
    for name in module.__all__:
        value = getattr(module, name)
        home = getattr(value, "__module__", None)
        if home and home.startswith(package + "."):
            assert getattr(sys.modules[home], name) is value
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_importing_the_host_package_imports_none_of_its_modules(tmp_path):
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, anklume_tui.engine.host as host; host.recorded_run; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('anklume_tui.engine.'))))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    imported = json.loads(shown.stdout)
    assert "anklume_tui.engine.host.telemetry" in imported
    assert not {"anklume_tui.engine.host.gpu_view", "anklume_tui.engine.host.doctor", "anklume_tui.engine.incus"} & set(
        imported
    )
