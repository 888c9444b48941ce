"""Enforcing isolation on the host: which bridges exist, the ruleset for them, loading and persisting it.

`apply_isolation` is what `nftables` and `apply` (before its instances start, and at its end) call;
`ai-switch` calls it with an override. Each load is persisted for boot (`boot.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...psot.constants import AI_TOOLS_DOMAIN, MANAGED_KEY
from ...psot.model import Infra
from ..host import paths
from ..incus.client import IncusClient
from ..incus.models import Network
from .boot import BootFiles, persist_for_boot
from .nft import NftError, br_netfilter_warning, load_ruleset, render_host_ruleset
from .policy import ResolvedPolicy, resolve_policies
from .render import is_interface_name


@dataclass
class IsolationResult:
    ruleset: str
    bridges: list[str]
    ai_override: str | None
    dry_run: bool = False
    loaded: bool = False
    changed: bool = False  # the live table differs from before the load
    state_file: Path | None = None
    persisted: Path | None = None
    boot: str | None = None  # how the persisted copy comes back at boot, when it does
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # nft's message when the load failed (the previous ruleset stays)


async def existing_bridges(client: IncusClient, prefix: str, networks: Sequence[Network] | None = None) -> list[str]:
    """The tagged `<prefix>net-*` bridges Incus holds (in `networks`, the default project's listing when the
    caller has just read it), sorted (a name nft could not quote safely is left out: the ruleset's wildcard
    drops still cut it off)."""
    return sorted(
        n.name
        for n in (networks if networks is not None else await client.list_networks(project="default"))
        if n.type == "bridge"
        and n.config.get(MANAGED_KEY) == "true"  # not reconcile's is_managed: reconcile imports this module
        and n.name.startswith(f"{prefix}net-")
        and is_interface_name(n.name)
    )


def declared_bridges(infra: Infra) -> list[str]:
    """The enabled domains' bridges: what a dry run shows when Incus cannot be asked."""
    return sorted(d.network for d in infra.enabled_domains)


def recorded_ai_holder(infra: Infra) -> str | None:
    """The domain ai-switch last gave AI access to, when the policy is exclusive and it still qualifies."""
    if infra.ai_access_policy != "exclusive":
        return None
    try:
        holder = paths.ai_access_holder_file().read_text().strip()
    except OSError:
        return None
    names = {d.name for d in infra.domains}
    return holder if holder in names and holder != AI_TOOLS_DOMAIN and AI_TOOLS_DOMAIN in names else None


def ai_holder_in_force(infra: Infra, ai_override: str | None = None) -> str | None:
    """The AI override the ruleset is rendered with: the one ai-switch is loading, else the recorded holder."""
    return ai_override if ai_override is not None else recorded_ai_holder(infra)


def live_policies(infra: Infra) -> list[ResolvedPolicy]:
    """The resolved policies the loaded ruleset is built from, AI holder included: every other decision on
    who reaches whom (copy-file) reads these, so it never allows what the ruleset drops or the reverse."""
    return resolve_policies(infra, ai_holder_in_force(infra))


def enforce_isolation(
    infra: Infra,
    bridges: list[str],
    *,
    ai_override: str | None = None,
    dry_run: bool = False,
    netns: str | None = None,
    persist_dir: Path | None = None,
    nft: str = "nft",
) -> IsolationResult:
    """Render for these bridges (`ai_override` None: the recorded holder, if any), then unless dry_run load
    it atomically and install a copy in `persist_dir` (default `state.nft_persist_dir()`)."""
    override = ai_holder_in_force(infra, ai_override)
    result = IsolationResult(render_host_ruleset(infra, bridges, override), sorted(bridges), override, dry_run)
    if dry_run:
        return result
    try:
        outcome = load_ruleset(result.ruleset, paths.isolation_ruleset_file(), netns=netns, nft=nft)
    except NftError as exc:
        result.error = str(exc)
        return result
    result.loaded, result.changed, result.state_file = True, outcome.changed, outcome.state_file
    files = BootFiles(persist_dir=persist_dir) if persist_dir is not None else BootFiles()
    boot = persist_for_boot(result.ruleset, files)
    result.persisted, result.boot = boot.persisted, boot.how
    result.warnings += boot.warnings
    if warning := br_netfilter_warning():
        result.warnings.append(warning)
    return result


def summary(result: IsolationResult) -> str:
    """One line on what loading did, for apply's progress and the TUI."""
    if result.error:
        return f"nftables: the isolation ruleset was not loaded (the previous one stays): {result.error}"
    what = "loaded" if result.changed else "already loaded, unchanged"
    return f"nftables: isolation ruleset for {len(result.bridges)} bridge(s) {what}"


async def apply_isolation(
    client: IncusClient,
    infra: Infra,
    *,
    ai_override: str | None = None,
    dry_run: bool = False,
    netns: str | None = None,
    persist_dir: Path | None = None,
    nft: str = "nft",
    coming: Iterable[str] = (),
    networks: Sequence[Network] | None = None,
) -> IsolationResult:
    """Load the isolation ruleset for the bridges Incus really holds, and for the `coming` ones apply is about
    to make (the ruleset names bridges, so it holds from the moment each one exists); never raises for nft
    failures (see `result.error`; Incus errors propagate). `networks`: the default project's networks, when
    the caller has just listed them."""
    found = await existing_bridges(client, infra.prefix, networks)
    bridges = sorted({*found, *filter(is_interface_name, coming)})
    return await asyncio.to_thread(
        enforce_isolation,
        infra,
        bridges,
        ai_override=ai_override,
        dry_run=dry_run,
        netns=netns,
        persist_dir=persist_dir,
        nft=nft,
    )
