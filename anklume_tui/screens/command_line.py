"""`:` command mode (k9s style): `:domain pro`, `:plan`, `:ai`, `:filter web`, `:reload`, `:help`, `:quit`."""

from __future__ import annotations

from dataclasses import dataclass

COMMANDS = {  # in this order a shared prefix resolves: `:d` is :domain, `:a` :ai, `:re` :reload
    "domain": "jump to a domain: :domain NAME",
    "machine": "jump to a machine: :machine NAME",
    "filter": "filter the rows: :filter TEXT (empty clears)",
    "plan": "open plan / apply",
    "ai": "AI access: who reaches ai-tools, switch it",
    "reload": "re-read the infra",
    "snapshots": "snapshot timeline of the selected machine or domain",
    "disp": "new disposable in the selected domain (else the default disposable domain)",
    "copy": "copy a file from the selected machine to a connected one",
    "edit": "edit the selected domain or machine in the infra file: :edit [NAME]",
    "add-machine": "add a machine to the selected domain: :add-machine [DOMAIN]",
    "add-domain": "add a domain to the infra file",
    "backup": "back up the selected machine or domain",
    "restore": "restore a backup: :restore FILE (or fill in the form)",
    "gpu": "GPUs: VRAM, holders, processes, GPU policy",
    "telemetry": "usage log charts and instance CPU/memory history",
    "help": "list the keys",
    "quit": "leave anklume-tui",
}


@dataclass(frozen=True)
class Command:
    verb: str
    argument: str = ""


class UnknownCommand(ValueError):
    pass


def parse_command(text: str) -> Command:
    """`:domain pro` → Command("domain", "pro"); a prefix is enough (`:pl`), and a prefix several verbs share
    means the first of them in COMMANDS (`:d pro` is `:domain pro`; `:di` is `:disp`)."""
    words = text.strip().lstrip(":").split(maxsplit=1)
    if not words:
        raise UnknownCommand("empty command")
    wanted = words[0].lower()
    matches = [wanted] if wanted in COMMANDS else [verb for verb in COMMANDS if verb.startswith(wanted)]
    if not matches:
        known = ", ".join(f":{verb}" for verb in COMMANDS)
        raise UnknownCommand(f"unknown command ':{wanted}' (known: {known})")
    return Command(matches[0], words[1].strip() if len(words) > 1 else "")
