"""Which instances hold their current context files (SPEC §5.6): recorded on their project, one key per
project, once apply has written them (issue 17).

The record names each instance with its `volatile.uuid`, so an instance made again under the same name (by
hand, by another tool) is not taken for the one whose files were written: its files are written again. One
project write per domain at the end of apply costs Incus a tenth of one instance write per machine. An apply
that stops before it records leaves the files unrecorded, never a record without files: the next apply
writes them again (the script is idempotent). Instances stamped by earlier versions, one key on the instance
itself, are still read as recorded.

The record is data read from Incus: anything but the expected shape reads as no record.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ..incus.models import Instance, Project
from .desired import CONTEXT_KEY

if TYPE_CHECKING:
    from ..incus.client import IncusClient

RECORD_KEY = "user.anklume.contexts"  # on the project: {instance: [its volatile.uuid, the stamp written]}
UUID_KEY = "volatile.uuid"

Record = dict[str, tuple[str, str]]  # instance name -> (volatile.uuid, stamp)


def read_record(config: Mapping[str, str]) -> Record:
    """A project's record; empty when absent or not of the expected shape."""
    try:
        found = json.loads(config.get(RECORD_KEY) or "{}")
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    record: Record = {}
    for name, entry in found.items():
        if isinstance(entry, list) and len(entry) == 2 and all(isinstance(part, str) for part in entry):
            record[name] = (entry[0], entry[1])
    return record


def context_stamps(
    projects: Mapping[str, Project], instances: Mapping[tuple[str, str], Instance]
) -> dict[tuple[str, str], str]:
    """(project, instance) -> the stamp of the context files it holds, for the instances that hold any."""
    records = {name: read_record(project.config) for name, project in projects.items()}
    stamps: dict[tuple[str, str], str] = {}
    for (project, name), instance in instances.items():
        uuid, stamp = records.get(project, {}).get(name, ("", ""))
        if uuid and uuid == instance.config.get(UUID_KEY):
            stamps[(project, name)] = stamp
        elif CONTEXT_KEY in instance.config:  # stamped on the instance by an earlier version
            stamps[(project, name)] = instance.config[CONTEXT_KEY]
    return stamps


def updated_record(config: Mapping[str, str], instances: Iterable[Instance], written: Mapping[str, str]) -> str | None:
    """A project's record once the `written` ones (instance -> stamp) are added, as the text to store; the
    entries of instances gone or made again are dropped. None when it would not change."""
    uuids = {i.name: i.config.get(UUID_KEY, "") for i in instances}
    old = read_record(config)
    new = {name: entry for name, entry in old.items() if entry[0] and entry[0] == uuids.get(name)}
    for name, stamp in written.items():
        if uuids.get(name):
            new[name] = (uuids[name], stamp)
    if new == old and RECORD_KEY in config:
        return None
    return json.dumps({name: list(entry) for name, entry in sorted(new.items())}, separators=(",", ":"))


async def record_contexts(
    client: IncusClient, written: Mapping[tuple[str, str], str], instances: list[Instance]
) -> None:
    """Record the `written` ones ((project, instance) -> stamp) on their projects, `instances` being every
    instance as Incus holds them now: per project, one read and, when the record changes, one write."""
    by_project: dict[str, dict[str, str]] = {}
    for (project, name), stamp in written.items():
        by_project.setdefault(project, {})[name] = stamp

    async def one(project: str, stamps: dict[str, str]) -> None:
        current = await client.get_project(project)
        text = updated_record(current.config, [i for i in instances if i.project == project], stamps)
        if text is not None:
            config = {**current.config, RECORD_KEY: text}
            await client.update_project(project, config=config, description=current.description)

    await asyncio.gather(*(one(project, stamps) for project, stamps in sorted(by_project.items())))
