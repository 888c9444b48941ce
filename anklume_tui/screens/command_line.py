"""`:` command mode (k9s style): `:domain pro`, `:plan`, `:ai`, `:filter web`, `:reload`, `:help`, `:quit`."""

from __future__ import annotations

from dataclasses import dataclass

COMMANDS = {
    "domain": "jump to a domain: :domain NAME",
    "machine": "jump to a machine: :machine NAME",
    "filter": "filter the rows: :filter TEXT (empty clears)",
    "plan": "open plan / apply",
    "ai": "AI access: who reaches ai-tools, switch it",
    "reload": "re-read the infra",
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
    """`:domain pro` → Command("domain", "pro"); a unique prefix of a verb is enough (`:pl`)."""
    words = text.strip().lstrip(":").split(maxsplit=1)
    if not words:
        raise UnknownCommand("empty command")
    wanted = words[0].lower()
    matches = [verb for verb in COMMANDS if verb.startswith(wanted)]
    if wanted in COMMANDS:
        matches = [wanted]
    if len(matches) != 1:
        known = ", ".join(f":{verb}" for verb in COMMANDS)
        raise UnknownCommand(f"unknown command ':{wanted}' (known: {known})")
    return Command(matches[0], words[1].strip() if len(words) > 1 else "")
