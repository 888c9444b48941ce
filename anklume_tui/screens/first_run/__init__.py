"""The first run: a guide from an empty folder (and a host not set up) to a valid infra on the plan screen."""

from __future__ import annotations

from .guide import FirstRunScreen, incus_readiness
from .host_setup import HostSetupScreen

__all__ = ["FirstRunScreen", "HostSetupScreen", "incus_readiness"]
