"""Exclusive AI access (SPEC §10.5): move the one domain allowed to reach `ai-tools` to another.

Under the apply lock (an apply in between would render the old holder back): stop the AI services, flush
GPU memory (so the next domain sees nothing of the last one's data), swap the nftables rule (which also
ends the previous holder's open connections: established traffic passes only between bridges a policy
joins), restart, and record the holder in the state dir.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from ...errors import Invalid
from ...printable import printable
from ...psot.constants import AI_TOOLS_DOMAIN
from ...psot.model import Infra
from ..host import paths
from ..host.apply_lock import ApplyLock
from ..host.gpu import NvidiaSmiError, kill_project_compute_processes, reset_gpus
from ..host.private_files import append_private, write_private
from ..incus.client import IncusClient, IncusError, IncusNotFound
from .enforce import apply_isolation, recorded_ai_holder

# The AI roles on gpu-server, and the variable (in the role's vars/main.yml) naming the systemd unit it installs:
# the name is written once, there, and read by both the role and ai-switch.
AI_SERVICE_ROLES = (("ollama_server", "ollama_server_service"), ("stt_server", "stt_server_service"))
GPU_SERVER = "gpu-server"
NO_GPU = "no GPU: VRAM flush skipped"


class SwitchRefused(Invalid):
    """The switch cannot be asked for (open policy, unknown or wrong target): a usage error."""


@dataclass
class SwitchStep:
    step: str
    outcome: str  # planned | done | skipped | failed
    detail: str = ""


@dataclass
class SwitchResult:
    target: str
    previous: str | None
    dry_run: bool
    steps: list[SwitchStep] = field(default_factory=list)
    switched: bool = False
    error: str | None = None


def current_holder() -> str | None:
    """What `<state>/ai-access-current` holds (None: no switch recorded yet)."""
    with contextlib.suppress(OSError):
        return paths.ai_access_holder_file().read_text().strip() or None
    return None


def access_holder(infra: Infra) -> tuple[str | None, str]:
    """The domain that reaches ai-tools now and why: the last ai-switch, else `ai_access_default`."""
    recorded = recorded_ai_holder(infra)
    if recorded is not None:
        return recorded, "set by ai-switch"
    return infra.ai_access_default, "ai_access_default"


def check_switch(infra: Infra, target: str) -> None:
    names = [d.name for d in infra.domains]
    if infra.ai_access_policy != "exclusive":
        raise SwitchRefused(
            "ai_access_policy is 'open': every domain with a network policy reaches ai-tools, there is no "
            "access to move (set global.ai_access_policy: exclusive to use ai-switch)"
        )
    if AI_TOOLS_DOMAIN not in names:
        raise SwitchRefused("the infra has no 'ai-tools' domain")
    if target == AI_TOOLS_DOMAIN:
        raise SwitchRefused("ai-tools cannot be given access to itself: name a client domain")
    if target not in names:
        raise SwitchRefused(f"unknown domain '{target}' (domains: {', '.join(names)})")


def ai_services(roles: Path | None = None) -> tuple[str, ...]:
    """The units ai-switch stops and restarts: each AI role's service name, from that role's vars/main.yml
    (role vars: host and group vars cannot rename the unit behind ai-switch's back)."""
    roles = roles or paths.shipped_ansible_dir() / "roles"
    found = []
    for role, variable in AI_SERVICE_ROLES:
        with (roles / role / "vars" / "main.yml").open(encoding="utf-8") as text:
            found.append(str(yaml.safe_load(text)[variable]))
    return tuple(found)


def planned_steps(infra: Infra, target: str, flush: bool, services: tuple[str, ...]) -> list[SwitchStep]:
    where = f"{infra.prefix}{GPU_SERVER} (project {infra.prefix}{AI_TOOLS_DOMAIN})"
    return [
        SwitchStep("stop services", "planned", f"systemctl stop {' '.join(services)} in {where}"),
        SwitchStep(
            "flush VRAM",
            "planned" if flush else "skipped",
            f"kill the GPU compute processes of project {infra.prefix}{AI_TOOLS_DOMAIN}, nvidia-smi --gpu-reset"
            if flush
            else "--no-flush",
        ),
        SwitchStep("nftables", "planned", f"reload table inet anklume: only {target} reaches ai-tools"),
        SwitchStep("restart services", "planned", f"systemctl start {' '.join(services)} in {where}"),
        SwitchStep("record", "planned", f"write {target} to {paths.ai_access_holder_file()}"),
    ]


async def ai_switch(
    client: IncusClient | None,
    infra: Infra,
    target: str,
    *,
    flush: bool | None = None,
    dry_run: bool = False,
    netns: str | None = None,
    persist_dir: Path | None = None,
    nft: str = "nft",
    services: tuple[str, ...] | None = None,
    on_step: Callable[[SwitchStep], None] | None = None,
) -> SwitchResult:
    """Raises SwitchRefused before touching anything, and ApplyLocked (before touching anything too) while an
    apply, a provision or another switch holds the apply lock, which a switch keeps from reading the holder
    to recording the new one; `client` may be None for a dry run."""
    check_switch(infra, target)
    flush = infra.ai_vram_flush if flush is None else flush
    services = ai_services() if services is None else services
    live = not dry_run and client is not None
    with ApplyLock(paths.state_dir()) if live else contextlib.nullcontext():
        previous = current_holder()
        result = SwitchResult(target, previous, dry_run)
        say = on_step or (lambda _step: None)

        def record(step: SwitchStep) -> None:
            result.steps.append(step)
            say(step)

        if previous == target:
            record(SwitchStep("check", "skipped", f"{target} already holds AI access: nothing to do"))
            return result
        if dry_run or client is None:
            for step in planned_steps(infra, target, flush, services):
                record(step)
            return result
        instance, project = f"{infra.prefix}{GPU_SERVER}", f"{infra.prefix}{AI_TOOLS_DOMAIN}"
        record(await _services(client, instance, project, "stop", services))
        record(flush_vram(project) if flush else SwitchStep("flush VRAM", "skipped", "--no-flush"))
        isolation = await apply_isolation(
            client, infra, ai_override=target, netns=netns, persist_dir=persist_dir, nft=nft
        )
        if isolation.error:
            result.error = isolation.error
            kept = f"{previous or 'the previous holder'} keeps access"
            record(SwitchStep("nftables", "failed", f"{isolation.error}; {kept}"))
        else:
            ended = f"{previous or infra.ai_access_default}'s open connections end"
            record(SwitchStep("nftables", "done", f"only {target} reaches ai-tools; {ended}"))
        record(await _services(client, instance, project, "start", services))
        if result.error:
            return result
        write_private(paths.ai_access_holder_file(), target + "\n")
        _log(previous, target, result.steps)
        result.switched = True
        record(SwitchStep("record", "done", f"{target} holds AI access"))
        return result


async def _services(
    client: IncusClient, instance: str, project: str, verb: str, services: tuple[str, ...]
) -> SwitchStep:
    """`systemctl <verb>` each service; an absent instance, systemctl or service is a note, not a failure."""
    name = "stop services" if verb == "stop" else "restart services"
    notes, done = [], []
    for service in services:
        try:
            run = await client.exec(instance, ["systemctl", verb, service], timeout=60, project=project)
        except IncusNotFound:
            return SwitchStep(name, "skipped", f"{instance} not found in project {project}")
        except IncusError as exc:
            return SwitchStep(name, "skipped", f"{instance}: {exc}")
        if run.exit_code == 127:
            return SwitchStep(name, "skipped", f"no systemctl in {instance}: services left as they are")
        if run.ok:
            done.append(service)
        else:
            notes.append(f"{service}: {printable(run.stderr or run.stdout).strip() or f'exit {run.exit_code}'}")
    detail = "; ".join(([f"{verb}: {', '.join(done)}"] if done else []) + notes)
    return SwitchStep(name, "done" if done else "skipped", detail)


def flush_vram(project: str) -> SwitchStep:
    """Kill the GPU compute processes of the AI domain's instances (those of `project`; nothing else on the
    host), then try a GPU reset (a busy or shared GPU may refuse it)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return SwitchStep("flush VRAM", "skipped", NO_GPU)
    try:
        killed = kill_project_compute_processes(smi, project)
    except NvidiaSmiError as exc:
        return SwitchStep("flush VRAM", "failed", printable(exc.user_message()))
    refused = reset_gpus(smi)
    how = "done" if refused is None else f"not possible ({printable(refused)})"
    return SwitchStep(
        "flush VRAM", "done", f"killed {len(killed)} GPU process(es) of project {project}; gpu-reset {how}"
    )


def _log(previous: str | None, target: str, steps: list[SwitchStep]) -> None:
    flushed = next((s for s in steps if s.step == "flush VRAM"), None)
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    line = f"{stamp} {previous or '-'} -> {target}; flush: {flushed.detail if flushed else '-'}\n"
    append_private(paths.ai_switch_log_file(), line)
