"""What Incus really holds, read in a handful of requests whatever the number of instances."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...psot.constants import INFRA_KEY, MANAGED_KEY
from ..incus.models import Image, Instance, Network, Profile, Project

if TYPE_CHECKING:  # status reads Incus without the client (incus/quick_read.py) and compares with this module
    from ..incus.client import IncusClient
    from ..incus.cluster import ClusterMember


def is_managed(config: dict[str, str]) -> bool:
    return config.get(MANAGED_KEY) == "true"


def belongs_to(config: dict[str, str], infra: str | None) -> bool:
    """Managed and tagged with this infra's name (`infra` None: any managed object, `flush --all`)."""
    return is_managed(config) and (infra is None or config.get(INFRA_KEY) == infra)


def other_infra(config: dict[str, str], infra: str) -> str | None:
    """The other infra a managed object is tagged with, if any: apply never takes it over."""
    owner = config.get(INFRA_KEY)
    return owner if is_managed(config) and owner and owner != infra else None


@dataclass
class RealState:
    projects: dict[str, Project] = field(default_factory=dict)
    networks: dict[str, Network] = field(default_factory=dict)  # project "default"
    profiles: dict[tuple[str, str], Profile] = field(default_factory=dict)  # (project, name)
    instances: dict[tuple[str, str], Instance] = field(default_factory=dict)  # (project, name)
    images: dict[str, list[Image]] = field(default_factory=dict)  # project -> images
    # The cluster's members when plan needed them (targets declared, a bridge to create); []: not a cluster or
    # not read.
    members: list[ClusterMember] = field(default_factory=list)

    def instance(self, project: str, name: str) -> Instance | None:
        return self.instances.get((project, name))

    def profile(self, project: str, name: str) -> Profile | None:
        return self.profiles.get((project, name))

    def image_aliases(self, project: str) -> set[str]:
        return {alias.name for image in self.images.get(project, []) for alias in image.aliases}


async def read_state(client: IncusClient, projects: Iterable[str] | None = None) -> RealState:
    """Projects, bridges, every instance (one request), then profiles and images of the given projects.

    `projects` limits the per-project reads (profiles, images) to those that exist; None means all.
    """
    import asyncio

    listed, networks, instances = await asyncio.gather(
        client.list_projects(), client.list_networks(project="default"), client.list_instances()
    )
    state = RealState(
        projects={p.name: p for p in listed},
        networks={n.name: n for n in networks},
        instances={(i.project, i.name): i for i in instances},
    )
    wanted = list(state.projects) if projects is None else [p for p in projects if p in state.projects]
    profile_lists = await asyncio.gather(*(client.list_profiles(project=p) for p in wanted))
    image_lists = await asyncio.gather(*(client.list_images(project=p) for p in wanted))
    for project, profiles, images in zip(wanted, profile_lists, image_lists, strict=True):
        state.images[project] = images
        for profile in profiles:
            state.profiles[(project, profile.name)] = profile
    return state
