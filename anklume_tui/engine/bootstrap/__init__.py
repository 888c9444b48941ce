"""Setting up the host (`bootstrap`, `doctor --fix`): Incus installed, started and initialised with a shown
preseed, the root id ranges, br_netfilter, the isolation ruleset at boot, the context files. Only what is
missing is added; nothing existing is changed or removed."""

from __future__ import annotations

from .host_facts import BootstrapHost
from .run import FIXED_BY, BootstrapOptions, BootstrapPlan, Outcome, carry_out, fixing_steps, plan_bootstrap
from .step import Step
from .storage_choice import DRIVERS, choose_driver

__all__ = [
    "DRIVERS",
    "FIXED_BY",
    "BootstrapHost",
    "BootstrapOptions",
    "BootstrapPlan",
    "Outcome",
    "Step",
    "carry_out",
    "choose_driver",
    "fixing_steps",
    "plan_bootstrap",
]
