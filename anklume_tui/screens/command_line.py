"""`:` command mode (k9s style): `:domain pro`, `:plan`, `:ai`, `:filter web`, `:reload`, `:help`, `:quit`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verb:
    """What `:verb` does: its help line, and the action it runs (`{arg}` is replaced by the argument, quoted);
    None for the verbs the domains screen handles itself (jumps and the filter)."""

    help: str
    action: str | None = None


COMMANDS = {  # in this order a shared prefix resolves: `:d` is :domain, `:a` :ai, `:re` :reload
    "domain": Verb("jump to a domain: :domain NAME"),
    "machine": Verb("jump to a machine: :machine NAME"),
    "filter": Verb("filter the rows: :filter TEXT (empty clears)"),
    "plan": Verb("open plan / apply", "screen.plan"),
    "ai": Verb("AI access: who reaches ai-tools, switch it", "screen.ai_access"),
    "reload": Verb("re-read the infra", "screen.reload"),
    "snapshots": Verb("snapshot timeline of the selected machine or domain", "screen.snapshot_timeline"),
    "disp": Verb("new disposable in the selected domain (else the default disposable domain)", "screen.new_disposable"),
    "copy": Verb("copy a file from the selected machine to a connected one", "screen.copy_file"),
    "edit": Verb("edit the selected domain or machine in the infra file: :edit [NAME]", "screen.edit_infra({arg})"),
    "add-machine": Verb("add a machine to the selected domain: :add-machine [DOMAIN]", "screen.add_machine({arg})"),
    "add-domain": Verb("add a domain to the infra file", "screen.add_domain"),
    "backup": Verb("back up the selected machine or domain", "screen.backup"),
    "restore": Verb("restore a backup: :restore FILE (or fill in the form)", "screen.restore_backup({arg})"),
    "gpu": Verb("GPUs: VRAM, holders, processes, GPU policy", "screen.gpu"),
    "telemetry": Verb("usage log charts and instance CPU/memory history", "screen.telemetry"),
    "help": Verb("list the keys", "help"),
    "quit": Verb("leave anklume-tui", "quit"),
}

PLACEHOLDER = ", ".join(f":{verb}" for verb in COMMANDS)


@dataclass(frozen=True)
class Command:
    verb: str
    argument: str = ""

    @property
    def action(self) -> str | None:
        """The action to run, with the argument filled in; None for jumps and the filter."""
        template = COMMANDS[self.verb].action
        return None if template is None else template.replace("{arg}", repr(self.argument))


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
