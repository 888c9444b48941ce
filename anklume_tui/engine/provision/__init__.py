"""Provisioning (SPEC §8.5): ansible-runner over the generated tree, and its progress as typed events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .events import ProvisionEvent
    from .runner import ProvisionResult, Selection, UnknownRole, provision, provisionable
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "events": ["ProvisionEvent"],
            "runner": ["ProvisionResult", "Selection", "UnknownRole", "provision", "provisionable"],
        },
    )

__all__ = [
    "ProvisionEvent",
    "ProvisionResult",
    "Selection",
    "UnknownRole",
    "provision",
    "provisionable",
]
