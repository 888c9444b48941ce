"""What a plan says: ordered actions, field-level drift, instance orphans (SPEC §8.3, §8.4)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..incus.models import Network

Kind = Literal["project", "network", "profile", "image", "volume", "instance"]
# create: the object is missing; update: some declared fields differ (or the managed tag is missing);
# copy: a local image is copied from project `default`; download: a remote image is fetched from its server;
# missing: a local image exists nowhere (apply fails it, naming the image); start: a stopped instance;
# conflict: Incus holds something apply will not replace (instance type); delete: a pruned orphan;
# renumber: an update moving an applied subnet or address the infra does not name (W9; apply --renumber);
# move: an instance on another cluster member than declared (stopped, moved, started again).
Op = Literal["create", "update", "copy", "download", "missing", "start", "conflict", "delete", "renumber", "move"]
KIND_ORDER: dict[str, int] = {"project": 0, "network": 1, "profile": 2, "image": 3, "volume": 4, "instance": 4}


class Drift(BaseModel):
    """One declared field whose real value differs (`actual` None: absent in Incus)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: str
    project: str
    name: str
    field: str
    expected: Any
    actual: Any


class Action(BaseModel):
    """One step of apply. `changes` is what apply sends (not part of the JSON contract); `domain` groups
    actions for display and parallelism; `instance` ties a volume to the instance it is attached to."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    op: Op
    kind: Kind
    project: str
    name: str
    detail: str = ""
    domain: str | None = None
    instance: str | None = None
    changes: dict[str, Any] = Field(default_factory=dict)

    @property
    def target(self) -> str:
        """The object in words, for messages: `instance pro/pro-dev`."""
        where = f"{self.project}/{self.name}" if self.kind not in ("project", "network") else self.name
        return f"{self.kind} {where}"

    def public(self) -> dict[str, str]:
        return {"op": self.op, "kind": self.kind, "project": self.project, "name": self.name, "detail": self.detail}


class Orphan(BaseModel):
    """A tagged instance in a tagged project that no machine declares (not a disposable)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    project: str
    name: str
    protected: bool
    status: str = ""
    reason: str = ""  # when protected: where the protection comes from and how to lift it


class Plan(BaseModel):
    model_config = ConfigDict(defer_build=True)

    actions: list[Action] = Field(default_factory=list)
    drift: list[Drift] = Field(default_factory=list)
    orphans: list[Orphan] = Field(default_factory=list)
    prune: bool = False
    limit: str | None = None
    # HTTP requests the plan's reading cost (for the benchmark and the curious).
    requests: int = 0
    # The bridges in scope as Incus held them when planned (apply saves them before changing anything).
    bridges: dict[str, Network] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.actions

    def of_kind(self, *kinds: str) -> list[Action]:
        return [a for a in self.actions if a.kind in kinds]

    def by_domain(self) -> list[tuple[str | None, list[Action]]]:
        """Actions grouped by domain, in plan order inside a group: shared objects (no domain) first, then
        each domain in the order the plan first names it."""
        groups: dict[str | None, list[Action]] = {}
        for action in self.actions:
            groups.setdefault(action.domain, []).append(action)
        return sorted(groups.items(), key=lambda item: item[0] is not None)

    def summary(self) -> str:
        """One line: how many actions, drifted fields and orphans."""
        return f"{len(self.actions)} action(s), {len(self.drift)} drifted field(s), {len(self.orphans)} orphan(s)"

    @property
    def refused(self) -> list[Orphan]:
        """Orphans --prune will not delete: protected ones."""
        return [o for o in self.orphans if o.protected] if self.prune else []
