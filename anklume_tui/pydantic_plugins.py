"""pydantic's plugins, which anklume-tui does not use, are not looked up at every start (issue 17).

As it builds its first model, pydantic imports its plugin loader, which imports importlib.metadata (with email,
zipfile and csv), then reads the `pydantic` entry points of every installed distribution: 63 M instructions of a
1,092 M `status` (~15 ms of 0.26 s), to find none. `skip_plugin_lookup()`, called by the command line before any
model is built, sets pydantic's own switch PYDANTIC_DISABLE_PLUGINS to `__all__` (a value the user set is kept,
and pydantic then does what it says, plugins included) and, as pydantic under that switch looks nothing up, hands
it a loader that finds no plugin without importing importlib.metadata. A name of pydantic's loader this one does
not have comes from the real loader, imported then, so that a pydantic that asks more of it still gets it.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Any

SWITCH = "PYDANTIC_DISABLE_PLUGINS"
LOADER = "pydantic.plugin._loader"


class _NoPlugins(types.ModuleType):
    """pydantic's loader, with every plugin disabled."""

    @staticmethod
    def get_plugins() -> tuple[()]:
        return ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if sys.modules.get(LOADER) is self:
            del sys.modules[LOADER]
        return getattr(importlib.import_module(LOADER), name)


def skip_plugin_lookup() -> None:
    """No plugin lookup in this process, unless the user set pydantic's switch (or a model was built already)."""
    if os.environ.setdefault(SWITCH, "__all__") != "__all__" or LOADER in sys.modules:
        return
    sys.modules[LOADER] = _NoPlugins(LOADER, __doc__)
