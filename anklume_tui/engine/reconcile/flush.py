"""`flush` (SPEC §10.8): destroy what the tool created, keeping user data.

Only this infra's objects are touched: tagged `user.anklume.managed=true` and `user.anklume.infra=<its
project_name>` (`flush --all`: every managed object), with names carrying this host's nesting prefix:
instances (stopped with force, then deleted), non-default profiles, projects, `<prefix>net-*` bridges, in
that order; then the generated `inventory/`, `group_vars/`, `host_vars/` files. Refused, and reported with
how to proceed: protected instances (Incus's truth values, through profiles too; read again just before, and
never stopped), and profiles, projects and bridges something else still uses. A project's own image copies
(a project with `features.images=true`) go with it, since Incus deletes only empty projects; the `default`
project's images, custom storage volumes, untagged objects, another infra's objects and the persistent-data
and shared-volume directories are never touched. With the checked infra, the relay-socket folders of the deleted
instances under `services_base` go too (their sockets only; anything else there keeps its folder). The menu
entries of this infra's exported applications go (their absolute paths among the files); a file portal's host
folder and what it holds are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path

from ...psot.enrich_services import host_socket_folder
from ...psot.generate import CUSTOM_NOTICE, MANAGED_BEGIN, MANAGED_END, MANAGED_NOTICE
from ...psot.model import Infra
from ...reports import FlushFile, FlushKind, FlushObject, FlushReport, IsolationOut
from ..apps import remove_entries
from ..incus.client import IncusClient
from ..incus.errors import IncusError, IncusNotFound, IncusUnreachable
from ..incus.models import Instance
from ..isolation.enforce import apply_isolation
from .real_state import RealState, belongs_to, read_state

__all__ = ["FlushFile", "FlushObject", "FlushReport", "flush_infra", "remove_generated_files"]

CONCURRENCY = 8
GENERATED_FOLDERS = ("inventory", "group_vars", "host_vars")
FlushProgress = Callable[[FlushObject | FlushFile], None]

_BLOCK = re.compile(
    rf"^{re.escape(MANAGED_BEGIN)}(?=\r?$).*?^{re.escape(MANAGED_END)}(?=\r?$)", re.MULTILINE | re.DOTALL
)
_OURS_OUTSIDE_BLOCK = {"", "---", MANAGED_NOTICE, CUSTOM_NOTICE}


async def flush_infra(
    client: IncusClient,
    prefix: str,
    infra: str | None,
    out_dir: Path | None,
    progress: FlushProgress | None = None,
    isolation: Infra | None = None,
) -> FlushReport:
    """Delete the managed objects of this prefix that belong to `infra` (its project_name; None: every managed
    object, `flush --all`), then the generated files under out_dir (None: none). With the checked infra as
    `isolation`, the isolation ruleset is loaded again for the bridges left, so that the deleted ones leave
    the live table (without one, nothing can render it: the report says so)."""
    done: list[FlushObject] = []

    def record(item: FlushObject) -> None:
        done.append(item)
        if progress is not None:
            progress(item)

    real = await read_state(client, projects=[])
    await _flush_instances(client, [i for i in real.instances.values() if _ours(i, prefix, infra)], record)
    real = await read_state(client, projects=None)
    projects = [p for p in real.projects.values() if p.name != "default" and _ours(p, prefix, infra)]
    await _flush_profiles(client, real, prefix, infra, record)
    for project in projects:
        await _flush_project(client, real, project.name, infra, record)
    networks = await client.list_networks(project="default")
    for network in networks:
        if network.name.startswith(f"{prefix}net-") and belongs_to(network.config, infra):
            users = [u for u in network.used_by if not u.startswith("/1.0/networks")]
            if users:
                record(_refused("network", None, network.name, f"still used by {_names(users)}"))
                continue
            record(await _delete("network", None, network.name, client.delete_network(network.name)))
    if isolation is not None:
        gone = [(o.project, o.name) for o in done if o.kind == "instance" and o.outcome == "deleted" and o.project]
        remove_service_folders(Path(isolation.services_base), gone)
    reloaded = await _reload_isolation(client, isolation) if isolation is not None else None
    files = remove_generated_files(out_dir) if out_dir is not None else []
    files += [FlushFile(path=str(path), outcome="deleted") for path in remove_entries(infra)]
    for item in files:
        if progress is not None:
            progress(item)
    output_dir = str(out_dir) if out_dir is not None else None
    return FlushReport(output_dir=output_dir, objects=done, files=files, isolation=reloaded)


async def _reload_isolation(client: IncusClient, infra: Infra) -> IsolationOut:
    loaded = await apply_isolation(client, infra)
    return IsolationOut(
        bridges=loaded.bridges,
        loaded=loaded.loaded,
        changed=loaded.changed,
        warnings=loaded.warnings,
        error=loaded.error,
    )


def remove_service_folders(base: Path, instances: list[tuple[str, str]]) -> None:
    """`<base>/<project>/<instance>` of each deleted instance: its relay sockets, then the folder and the
    project's folder once empty. Only sockets are unlinked and symlinks are never followed."""
    for project, name in instances:
        folder = Path(host_socket_folder(str(base), project, name))  # where enrichment put its sockets
        with contextlib.suppress(OSError):
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                continue
            for entry in folder.iterdir():
                if stat.S_ISSOCK(os.lstat(entry).st_mode):
                    entry.unlink()
            folder.rmdir()
            folder.parent.rmdir()


def _ours(obj, prefix: str, infra: str | None) -> bool:
    return obj.name.startswith(prefix) and belongs_to(obj.config, infra)


def _refused(kind: FlushKind, project: str | None, name: str, reason: str) -> FlushObject:
    return FlushObject(kind=kind, project=project, name=name, outcome="refused", reason=reason)


def _names(urls: list[str]) -> str:
    """`/1.0/instances/web?project=pro` → `web (pro)`, comma-separated."""
    shown = []
    for url in urls:
        path, _, query = url.partition("?")
        name = path.rstrip("/").rsplit("/", 1)[-1]
        project = query.removeprefix("project=") if query.startswith("project=") else ""
        shown.append(f"{name} ({project})" if project else name)
    return ", ".join(sorted(shown))


async def _delete(kind: FlushKind, project: str | None, name: str, call: Awaitable[None]) -> FlushObject:
    """Run one deletion; an object already gone counts as deleted, other Incus errors as failed."""
    try:
        await call
    except IncusNotFound:
        pass
    except IncusUnreachable:
        raise
    except IncusError as exc:
        return FlushObject(kind=kind, project=project, name=name, outcome="failed", reason=exc.message)
    return FlushObject(kind=kind, project=project, name=name, outcome="deleted")


async def _flush_instances(client: IncusClient, instances: list[Instance], record) -> None:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(instance: Instance) -> None:
        async with limit:
            if not instance.protected:  # read again: protection set since the listing stops nothing
                with contextlib.suppress(IncusNotFound):  # gone: the deletion below counts it as deleted
                    instance = await client.get_instance(instance.name, project=instance.project)
            if instance.protected:
                record(_refused("instance", instance.project, instance.name, instance.protection))
                return
            record(await _delete("instance", instance.project, instance.name, _stop_and_delete(client, instance)))

    await asyncio.gather(*(one(i) for i in sorted(instances, key=lambda i: (i.project, i.name))))


async def _stop_and_delete(client: IncusClient, instance: Instance) -> None:
    if instance.status not in ("Stopped", ""):
        try:
            await client.change_state(instance.name, "stop", force=True, project=instance.project)
        except IncusNotFound:
            return  # an Incus-ephemeral instance is gone once stopped
        except IncusError:
            pass  # already stopped by now: the delete below says whether it worked
    await client.delete_instance(instance.name, project=instance.project)


async def _flush_profiles(client: IncusClient, real: RealState, prefix: str, infra: str | None, record) -> None:
    for (project, name), profile in sorted(real.profiles.items()):
        if name == "default" or not project.startswith(prefix) or not belongs_to(profile.config, infra):
            continue
        owner = real.projects.get(project)
        if project != "default" and (owner is None or owner.config.get("features.profiles") != "true"):
            continue  # listed through a project that uses default's profiles
        if profile.used_by:
            record(_refused("profile", project, name, f"still used by {_names(profile.used_by)}"))
            continue
        record(await _delete("profile", project, name, client.delete_profile(name, project=project)))


async def _flush_project(client: IncusClient, real: RealState, project: str, infra: str | None, record) -> None:
    config = real.projects[project].config
    instances = sorted(name for (p, name) in real.instances if p == project)
    own_profiles = [(n, pr) for (p, n), pr in real.profiles.items() if p == project and n != "default"]
    # Tagged unused profiles were deleted just before; whatever else the project has keeps it alive.
    profiles = sorted(
        name
        for name, profile in own_profiles
        if config.get("features.profiles") == "true" and not (belongs_to(profile.config, infra) and not profile.used_by)
    )
    volumes = []
    if config.get("features.storage.volumes") == "true":
        volumes = [v.name for v in await client.list_storage_volumes("default", project=project)]
    holding = [
        f"{what}: {', '.join(names)}"
        for what, names in (("instances", instances), ("profiles", profiles), ("storage volumes", volumes))
        if names
    ]
    if holding:
        unused = [name for name, profile in own_profiles if name in profiles and not profile.used_by]
        reason = f"still holds {'; '.join(holding)}. To go on: {_how_to_empty(project, instances, unused, volumes)}"
        record(_refused("project", None, project, reason))
        return
    if config.get("features.images") == "true":
        for image in real.images.get(project, []):
            record(
                await _delete(
                    "image", project, image.fingerprint, client.delete_image(image.fingerprint, project=project)
                )
            )
    record(await _delete("project", None, project, client.delete_project(project)))


def _how_to_empty(project: str, instances: list[str], profiles: list[str], volumes: list[str]) -> str:
    """The commands that empty a project flush refused to delete (`profiles`: those no instance uses, not
    this infra's; the used ones go with their instances)."""
    steps = ["lift the protection of its instances as each refusal above says"] if instances else []
    if profiles:
        commands = ", ".join(f"`incus profile delete {name} --project={project}`" for name in profiles)
        steps.append(f"delete its profiles ({commands})")
    if volumes:
        commands = ", ".join(f"`incus storage volume delete default {name} --project={project}`" for name in volumes)
        steps.append(f"delete its volumes once their data is saved or not needed ({commands})")
    return "; ".join(steps) + "; then flush again"


def remove_generated_files(out_dir: Path) -> list[FlushFile]:
    """Delete the generated tree's files: `*.yml` under inventory/, group_vars/, host_vars/ that hold our
    managed section and nothing else of the user's. Others are kept and reported; emptied folders go."""
    files: list[FlushFile] = []
    for folder in GENERATED_FOLDERS:
        directory = out_dir / folder
        if not directory.is_dir() or directory.is_symlink():
            continue
        for path in sorted(directory.iterdir()):
            relative = f"{folder}/{path.name}"
            reason = _why_kept(path)
            if reason:
                files.append(FlushFile(path=relative, outcome="kept", reason=reason))
                continue
            path.unlink(missing_ok=True)
            files.append(FlushFile(path=relative, outcome="deleted"))
        with contextlib.suppress(OSError):  # not empty: the user's files stay
            directory.rmdir()
    return files


def _why_kept(path: Path) -> str:
    """Why a file of the generated folders is not ours to delete; "" when it is."""
    if path.is_symlink() or not path.is_file() or path.suffix != ".yml":
        return "not a generated file"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "unreadable: left alone"
    block = _BLOCK.search(text)
    if block is None:
        return f"no '{MANAGED_BEGIN}' section: not generated"
    outside = text[: block.start()] + text[block.end() :]
    if any(line.strip() not in _OURS_OUTSIDE_BLOCK for line in outside.splitlines()):
        return "holds your own content outside the managed section"
    return ""
