"""One explain: the failure's context, what would be sent, and with the user's word the answer and the fix
rounds (apply the patch, re-run the failed step, ask again while it fails, at most `rounds` times). A fix
the library holds for the failure's signature comes first, before any model is asked; every round is logged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import Invalid
from ...psot.load import default_output_dir
from ...psot.model import Infra
from ..host import gather_host_context
from .access import check_ai_access
from .backends import ChatRequest, chat, chat_request
from .config import AssistantConfig, how_to_configure
from .context import (
    Failure,
    FailureContext,
    apply_failures,
    apply_journal,
    failures_in,
    gather,
    last_failed_step,
    last_report,
)
from .experience import known_fix, log_round, remember
from .patch import PatchRefused, apply_patch, explanation_of, extract_diff, plan_patch

Say = Callable[[str], None]


@dataclass
class Round:
    number: int
    source: str  # "experience" | "model"
    signature: str
    explanation: str = ""
    diff: str | None = None
    applied: list[str] = field(default_factory=list)
    rerun_ok: bool | None = None
    refused: str | None = None


@dataclass
class Explained:
    context: FailureContext
    sent: bool = False
    rounds: list[Round] = field(default_factory=list)

    @property
    def fixed(self) -> bool:
        return bool(self.rounds) and self.rounds[-1].rerun_ok is True


def failure_context(source: Path | None, infra: Path, tree: Path | None) -> FailureContext | None:
    """The first failure of the report at `source` (a provisioning report); by default of the last step that
    ran, the last provisioning run's or the last apply's (its journal), whichever is newer. None: it passed."""
    folder = tree or default_output_dir(infra)
    if source is None and last_failed_step() == "apply":
        failures = apply_failures(apply_journal())
        return gather(failures[0], infra, folder, None) if failures else None
    failures, data = failures_in(source or last_report())
    if not failures:
        return None
    recorded = data.get("tree")
    if tree is None and isinstance(recorded, str):
        folder = Path(recorded)
    log = data.get("log")
    return gather(failures[0], infra, folder, Path(log) if isinstance(log, str) else None)


def request_for(config: AssistantConfig, context: FailureContext) -> ChatRequest | None:
    return chat_request(config, context.messages()) if config.enabled else None


def explain(
    context: FailureContext,
    config: AssistantConfig,
    infra: Infra,
    *,
    apply: bool,
    rounds: int,
    rerun: Callable[[FailureContext], list[Failure] | None],
    on_chunk: Say | None = None,
    allow_model: bool = True,
) -> Explained:
    """Ask (or take the library's fix), and with `apply` patch and re-run: `rerun(context)` gives
    None when the step passed, else its failures. Raises AiAccessRefused and AssistantFailed before a round
    is recorded; a refused patch ends the rounds (recorded, then raised)."""
    done = Explained(context)
    for number in range(1, rounds + 1):
        round_ = offered_fix(context, number)
        if round_ is None:
            if not allow_model:
                return done  # nothing is sent without the user's word
            round_ = ask(config, infra, context, number, on_chunk)
            done.sent = True
        done.rounds.append(round_)
        if not apply or round_.diff is None:
            _log(round_, context)
            return done
        left = apply_fix(round_, context, rerun)
        if not left:
            return done
        context = gather(left[0], context.infra, context.tree, context.log)
    return done


def offered_fix(context: FailureContext, number: int = 1) -> Round | None:
    """The library's fix for this failure, if the user confirmed one before."""
    signature = context.failure.signature()
    known = known_fix(signature)
    if known is None:
        return None
    return Round(number, "experience", signature, "a fix you confirmed before for this failure", known.diff)


def ask(
    config: AssistantConfig, infra: Infra, context: FailureContext, number: int = 1, on_chunk: Say | None = None
) -> Round:
    """Send the context (refused first when the access policy says no) and read the streamed answer."""
    if not config.enabled:
        raise Invalid(how_to_configure())
    check_ai_access(infra, config.domain)
    answer = chat(config, chat_request(config, context.messages()), on_chunk)
    return Round(number, "model", context.failure.signature(), explanation_of(answer), extract_diff(answer))


def apply_fix(
    round_: Round, context: FailureContext, rerun: Callable[[FailureContext], list[Failure] | None]
) -> list[Failure] | None:
    """Apply the round's patch after validation, re-run the step, log the round; a model's fix that made the
    step pass is remembered. None: the step passed; else what still fails. PatchRefused is logged, then raised."""
    if round_.diff is None:
        raise PatchRefused("no patch was proposed")
    try:
        planned = plan_patch(round_.diff, context.infra, context.tree)
        ctx = gather_host_context(infra=context.infra)
        round_.applied = [str(p) for p in apply_patch(planned, context.infra, ctx)]
    except PatchRefused as exc:
        round_.refused = exc.user_message()
        _log(round_, context)
        raise
    left = rerun(context)
    round_.rerun_ok = left is None
    _log(round_, context)
    if left is None and round_.source == "model":
        remember(round_.signature, context.failure.task, context.failure.message, round_.diff)
    return left


def provision_again(
    incus_url: str | None, on_event: Callable[[Any], None] | None = None
) -> Callable[[FailureContext], list[Failure] | None]:
    """The failed step again: the patched infra checked by psot, then the failed role provisioned on the
    machine's domain (`provision --limit DOMAIN --role ROLE`)."""

    def rerun(context: FailureContext) -> list[Failure] | None:
        from ...psot.pipeline import is_valid, run_psot
        from ..provision import Selection, UnknownRole, provision

        host = gather_host_context(infra=context.infra)
        checked = run_psot(context.infra, host)
        if not is_valid(checked):
            raise Invalid(f"{context.infra}: the patched infra is not valid: {checked.findings[0].render()}")
        if context.failure.step == "apply":
            return _apply_again(checked.infra, context, host, incus_url)
        domain, role = context.failure.domain, context.failure.role
        # the failed role only, on the machine's domain; the whole domain when the fix took the role away
        try:
            selection = Selection(roles=(role,)) if role else None
            result = provision(
                checked.infra, context.tree, limit=domain, incus_url=incus_url, on_event=on_event, selection=selection
            )
        except UnknownRole:
            result = provision(checked.infra, context.tree, limit=domain, incus_url=incus_url, on_event=on_event)
        if result.ok:
            return None
        return [Failure(p.host, domain, p.task, p.message, domain) for p in result.problems if p.kind == "failed"]

    return rerun


def _apply_again(infra: Infra, context: FailureContext, host: Any, incus_url: str | None) -> list[Failure] | None:
    """`apply --limit DOMAIN --no-provision` (every domain when the failed object belongs to none)."""
    import asyncio

    from ..incus import connect
    from ..reconcile import apply_pipeline

    async def run() -> Any:
        async with connect(incus_url) as client:
            return await apply_pipeline(
                client, infra, tree=context.tree, host=host, limit=context.failure.domain, provision=False
            )

    result = asyncio.run(run())
    if result.ok:
        return None
    failed = [o for o in result.applied.outcomes if o.status == "failed"]
    return [
        Failure(
            o.action.name,
            context.failure.domain,
            f"{o.action.op} {o.action.kind} {o.action.name}",
            o.error,
            step="apply",
        )
        for o in failed
    ]


def _log(round_: Round, context: FailureContext) -> None:
    log_round(
        {
            "round": round_.number,
            "source": round_.source,
            "signature": round_.signature,
            "machine": context.failure.host,
            "task": context.failure.task,
            "error": context.failure.message,
            "diff": round_.diff,
            "applied": round_.applied,
            "rerun_ok": round_.rerun_ok,
            "refused": round_.refused,
        }
    )
