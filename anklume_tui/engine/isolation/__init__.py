"""Isolation (SPEC §9): policies resolved, the nftables rulesets rendered and loaded, kept at boot, and the
exclusive AI access switch (§10.5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .ai_access import SwitchRefused, SwitchStep, access_holder, ai_switch, check_switch
    from .enforce import (
        IsolationResult,
        apply_isolation,
        declared_bridges,
        enforce_isolation,
        existing_bridges,
        live_policies,
        summary,
    )
    from .policy import Endpoint, ResolvedPolicy
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "ai_access": ["SwitchRefused", "SwitchStep", "access_holder", "ai_switch", "check_switch"],
            "enforce": [
                "IsolationResult",
                "apply_isolation",
                "declared_bridges",
                "enforce_isolation",
                "existing_bridges",
                "live_policies",
                "summary",
            ],
            "policy": ["Endpoint", "ResolvedPolicy"],
        },
    )

__all__ = [
    "Endpoint",
    "IsolationResult",
    "ResolvedPolicy",
    "SwitchRefused",
    "SwitchStep",
    "access_holder",
    "ai_switch",
    "apply_isolation",
    "check_switch",
    "declared_bridges",
    "enforce_isolation",
    "existing_bridges",
    "live_policies",
    "summary",
]
