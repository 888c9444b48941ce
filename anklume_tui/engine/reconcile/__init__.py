"""Desired state against what Incus holds: plan, apply (and the pipeline apply → provision → running
check), status, flush and import (SPEC §8, §10.8, §10.9)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .allocation import prior_allocation
    from .apply import ApplyEvent, ApplyResult
    from .apply_start import ApplyStart
    from .flush import flush_infra
    from .infra_import import import_infra
    from .partial import STEPS, UnknownStep, only_steps, parse_steps
    from .pipeline import PhaseEvent, PipelineEvent, PipelineResult, apply_pipeline
    from .plan import make_plan
    from .plan_models import Action, Orphan, Plan
    from .status import gather_status, status_of
    from .status_read import StatusListings, read_status, start_status_read
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "allocation": ["prior_allocation"],
            "apply": ["ApplyEvent", "ApplyResult"],
            "apply_start": ["ApplyStart"],
            "flush": ["flush_infra"],
            "infra_import": ["import_infra"],
            "partial": ["STEPS", "UnknownStep", "only_steps", "parse_steps"],
            "pipeline": ["PhaseEvent", "PipelineEvent", "PipelineResult", "apply_pipeline"],
            "plan": ["make_plan"],
            "plan_models": ["Action", "Orphan", "Plan"],
            "status": ["gather_status", "status_of"],
            "status_read": ["StatusListings", "read_status", "start_status_read"],
        },
    )

__all__ = [
    "Action",
    "ApplyEvent",
    "ApplyResult",
    "ApplyStart",
    "Orphan",
    "PhaseEvent",
    "PipelineEvent",
    "PipelineResult",
    "Plan",
    "STEPS",
    "StatusListings",
    "UnknownStep",
    "apply_pipeline",
    "flush_infra",
    "gather_status",
    "import_infra",
    "make_plan",
    "only_steps",
    "parse_steps",
    "prior_allocation",
    "read_status",
    "start_status_read",
    "status_of",
]
