"""A package's API imported on first use (PEP 562): `from anklume_tui.engine.host import recorded_run` imports
the telemetry module and what it needs, not the whole package (issue 17: every verb paid for every module of
the packages it touched). The package keeps its imports under TYPE_CHECKING for the type checker and passes
the same names here, by module."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence


def exports_on_first_use(package: str, exports: Mapping[str, Sequence[str]]) -> Callable[[str], object]:
    """The module `__getattr__` of `package`: `exports` maps each of its modules (relative name) to the names
    it gives the package; a name is imported from its module when first asked for, then kept on the package."""
    module_of = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> object:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
