""""""

from __future__ import annotations

from .events import ProvisionEvent
from .runner import ProvisionResult, provision, provisionable

__all__ = [
    "ProvisionEvent",
    "ProvisionResult",
    "provision",
    "provisionable",
]
