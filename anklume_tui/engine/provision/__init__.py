"""Provisioning (SPEC §8.5): ansible-runner over the generated tree, and its progress as typed events."""

from __future__ import annotations

from .events import ProvisionEvent
from .runner import ProvisionResult, Selection, UnknownRole, provision, provisionable

__all__ = [
    "ProvisionEvent",
    "ProvisionResult",
    "Selection",
    "UnknownRole",
    "provision",
    "provisionable",
]
