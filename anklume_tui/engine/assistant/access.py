"""With exclusive AI access (SPEC §10.5) the assistant asks only from a domain the loaded ruleset lets reach
ai-tools: the decision reads `live_policies`, the very policies the ruleset is rendered from."""

from __future__ import annotations

from ...errors import Refused
from ...psot.constants import AI_TOOLS_DOMAIN
from ...psot.model import Infra
from ..isolation.enforce import live_policies


class AiAccessRefused(Refused):
    """The assistant's domain may not reach the AI domain now; nothing was sent."""


def check_ai_access(infra: Infra, domain: str | None) -> None:
    if infra.ai_access_policy != "exclusive" or AI_TOOLS_DOMAIN not in {d.name for d in infra.domains}:
        return
    if domain is None:
        raise AiAccessRefused(
            'AI access is exclusive: say which domain you ask from (domain = "..." in the assistant\'s config)'
        )
    reaches = any(
        rule.source.domain == domain and rule.destination.domain == AI_TOOLS_DOMAIN
        for policy in live_policies(infra)
        for rule in policy.forward
    )
    if not reaches:
        from ..isolation.ai_access import access_holder

        holder, why = access_holder(infra)
        raise AiAccessRefused(
            f"AI access is exclusive and {domain} may not reach {AI_TOOLS_DOMAIN} (held by {holder or 'no domain'}, "
            f"{why}); nothing was sent (`anklume-tui --batch ai-switch {domain}` moves it)"
        )
