"""A first infra.yml from a few answers (the TUI's first-run form): domains with their trust levels and
machines, written as commented YAML through ruamel so that a new user reads what each part means. Pure: the
text is returned; the caller validates it and writes it."""

from __future__ import annotations

import io
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

TRUST_LEVELS = ("admin", "trusted", "semi-trusted", "untrusted", "disposable")
DEFAULT_IMAGE = "images:debian/13"


@dataclass(frozen=True)
class StarterDomain:
    name: str
    trust_level: str
    machines: int


def machine_names(domain: StarterDomain) -> list[str]:
    return [f"{domain.name}-{i}" for i in range(1, domain.machines + 1)]


def starter_infra(project_name: str, domains: list[StarterDomain]) -> str:
    """The infra text: `project_name`, a `global` with the default image, each domain with its machines."""
    top = CommentedMap()
    top["project_name"] = project_name
    top.yaml_set_comment_before_after_key(
        "project_name",
        before=(
            "Written by anklume-tui's first-run guide. Each domain is one Incus project, one bridge and its\n"
            "machines; domains cannot reach each other unless a network_policies entry says so.\n"
            "Validate after editing: anklume-tui --batch validate"
        ),
    )
    settings = CommentedMap()
    settings["addressing"] = CommentedMap()
    settings.yaml_add_eol_comment("trust-zone addressing: subnets and IPs follow from the trust levels", "addressing")
    settings["default_os_image"] = DEFAULT_IMAGE
    settings.yaml_add_eol_comment("image of every machine that does not name its own os_image", "default_os_image")
    top["global"] = settings
    top.yaml_set_comment_before_after_key("global", before="\nSettings for the whole infra")
    every = CommentedMap()
    for index, domain in enumerate(domains):
        body = CommentedMap()
        body["trust_level"] = domain.trust_level
        if index == 0:  # said once: the others read the same
            body.yaml_add_eol_comment(f"one of {', '.join(TRUST_LEVELS)}", "trust_level")
        machines = CommentedMap()
        for number, name in enumerate(machine_names(domain)):
            machine = CommentedMap()
            machine["type"] = "lxc"
            if index == 0 and number == 0:
                machine.yaml_add_eol_comment("lxc: a container; vm: a virtual machine", "type")
            machines[name] = machine
        body["machines"] = machines
        every[domain.name] = body
    top["domains"] = every
    top.yaml_set_comment_before_after_key("domains", before="\nThe compartments")
    out = io.StringIO()
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.dump(top, out)
    return out.getvalue()
