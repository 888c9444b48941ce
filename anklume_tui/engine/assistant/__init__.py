"""The local assistant (issue 23): explain a failed step with the user's own model and propose a fix, shown
before anything is sent, applied only after validation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .access import AiAccessRefused, check_ai_access
    from .backends import AssistantFailed, ChatRequest, chat, chat_request
    from .config import AssistantConfig, how_to_configure, load_config
    from .context import Failure, FailureContext, NothingToExplain
    from .experience import Experience, experiences, forget, known_fix, rounds_log_file
    from .fix import (
        Explained,
        Round,
        apply_fix,
        ask,
        explain,
        failure_context,
        offered_fix,
        provision_again,
        request_for,
    )
    from .patch import PatchRefused
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "access": ["AiAccessRefused", "check_ai_access"],
            "backends": ["AssistantFailed", "ChatRequest", "chat", "chat_request"],
            "config": ["AssistantConfig", "how_to_configure", "load_config"],
            "context": ["Failure", "FailureContext", "NothingToExplain"],
            "experience": ["Experience", "experiences", "forget", "known_fix", "rounds_log_file"],
            "fix": [
                "Explained",
                "Round",
                "apply_fix",
                "ask",
                "explain",
                "failure_context",
                "offered_fix",
                "provision_again",
                "request_for",
            ],
            "patch": ["PatchRefused"],
        },
    )

__all__ = [
    "AiAccessRefused",
    "AssistantConfig",
    "AssistantFailed",
    "ChatRequest",
    "Experience",
    "Explained",
    "Failure",
    "FailureContext",
    "NothingToExplain",
    "PatchRefused",
    "Round",
    "apply_fix",
    "ask",
    "chat",
    "chat_request",
    "check_ai_access",
    "explain",
    "experiences",
    "failure_context",
    "forget",
    "how_to_configure",
    "known_fix",
    "load_config",
    "offered_fix",
    "provision_again",
    "request_for",
    "rounds_log_file",
]
