"""GET requests sent the moment a verb starts, with the standard library alone (issue 17).

A verb that only reads (`status`) sends its requests before it imports the rest of anklume-tui: Incus works
them out on another core (most of a listing's time: each running instance's live state) while this process
imports httpx, pydantic and the check, then the answers are waiting in the socket. Over the local unix socket
only; HTTP/1.0, one connection per request, so an answer is every byte until Incus closes the connection.

Anything but a plain success — no socket, a refused connection, an HTTP error, an error document, a short or
malformed answer — gives None: the caller then reads through the client (`IncusClient`), which says what went
wrong as every other read does. A failure is never said here, so it is never said twice or differently.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .endpoint import resolve_endpoint
from .errors import IncusUrlError

if TYPE_CHECKING:
    from .models import Image, Instance, InstanceWithState, Network, Profile, Project

TIMEOUT = 30.0  # as the transport's, for each wait on the socket
# What `status` shows, as IncusClient's list_projects, list_networks(project="default") and
# list_instances_with_state ask for it: the projects, the bridges, each instance with its state and snapshots.
STATUS_PATHS = (
    "/1.0/projects?recursion=1",
    "/1.0/networks?recursion=1&project=default",
    "/1.0/instances?recursion=2&all-projects=true",
)
# What the check's stable allocation reads (reconcile/allocation.py), as IncusClient's list_networks,
# list_instances and is_clustered ask for it.
ALLOCATION_PATHS = (
    "/1.0/networks?recursion=1&project=default",
    "/1.0/instances?recursion=1&all-projects=true",
    "/1.0/cluster",
)
# What apply reads before it changes anything, as IncusClient's list_networks(project="default"),
# list_instances, is_clustered, list_projects, list_profiles_all_projects and list_images_all_projects ask for it.
APPLY_PATHS = (
    "/1.0/networks?recursion=1&project=default",
    "/1.0/instances?recursion=1&all-projects=true",
    "/1.0/cluster",
    "/1.0/projects?recursion=1",
    "/1.0/profiles?recursion=1&all-projects=true",
    "/1.0/images?recursion=1&all-projects=true",
)
# Requests sent by quick reads in this process (the transport counts its own; tests add the two).
sent = [0]


class NotPlain(ValueError):
    """An answer that is not a plain sync success: the caller reads again through the client."""


class QuickReads:
    """GET requests already with Incus, one connection each; `answers()` reads them back, in order."""

    def __init__(self, connections: list[socket.socket]) -> None:
        self._connections = connections

    @classmethod
    def start(cls, url: str | None, paths: Sequence[str], timeout: float = TIMEOUT) -> QuickReads | None:
        """Send `paths` to the Incus `url` names (`--incus`, else as `resolve_endpoint` finds it); None when
        that Incus is not a local unix socket or a request could not be sent. `timeout`: for each wait."""
        try:
            endpoint = resolve_endpoint(url)
        except IncusUrlError:
            return None
        if endpoint.socket is None:
            return None
        connections: list[socket.socket] = []
        try:
            for path in paths:
                connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                connections.append(connection)
                connection.settimeout(timeout)
                connection.connect(endpoint.socket)
                connection.sendall(f"GET {path} HTTP/1.0\r\nHost: incus\r\nAccept: application/json\r\n\r\n".encode())
                sent[0] += 1
        except OSError:
            _close(connections)
            return None
        return cls(connections)

    def answers(self) -> list[Any] | None:
        """Each request's metadata, in the order sent; None when any answer is not a plain success."""
        try:
            return [_metadata(_received(connection)) for connection in self._connections]
        except (OSError, ValueError):  # NotPlain and json's errors are ValueErrors
            return None
        finally:
            _close(self._connections)


def start_status_reads(url: str | None) -> QuickReads | None:
    """The three requests of `status` (STATUS_PATHS), sent now."""
    return QuickReads.start(url, STATUS_PATHS)


def status_listings(reads: QuickReads) -> tuple[list[Project], list[Network], list[InstanceWithState]] | None:
    """The answers of `start_status_reads` as the client's models; None when they must be read again."""
    found = reads.answers()
    if found is None:
        return None
    from .models import InstanceWithState, Network, Project

    projects, networks, instances = found
    if not all(isinstance(listing, list) for listing in found):
        return None
    return (
        [Project.model_validate(p) for p in projects],
        [Network.model_validate(n) for n in networks],
        [InstanceWithState.model_validate(i) for i in instances],
    )


@dataclass(frozen=True)
class ApplyListings:
    """What apply reads of an Incus that is no cluster before it changes anything (APPLY_PATHS)."""

    networks: list[Network]  # the default project's
    instances: list[Instance]  # every project's
    projects: list[Project]
    profiles: list[Profile]  # every project's
    images: list[Image]  # every project's


def start_apply_reads(url: str | None) -> QuickReads | None:
    """The requests of APPLY_PATHS, sent now."""
    return QuickReads.start(url, APPLY_PATHS)


def apply_listings(reads: QuickReads) -> ApplyListings | None:
    """The answers of `start_apply_reads` as the client's models; None when they must be read again, also when
    Incus is a cluster (its members are then read through the client, with what depends on them)."""
    found = reads.answers()
    if found is None:
        return None
    networks, instances, cluster, projects, profiles, images = found
    if not isinstance(cluster, dict) or cluster.get("enabled") is not False:
        return None
    if not all(isinstance(listing, list) for listing in (networks, instances, projects, profiles, images)):
        return None
    from .models import Image, Instance, Network, Profile, Project

    return ApplyListings(
        networks=[Network.model_validate(n) for n in networks],
        instances=[Instance.model_validate(i) for i in instances],
        projects=[Project.model_validate(p) for p in projects],
        profiles=[Profile.model_validate(p) for p in profiles],
        images=[Image.model_validate(i) for i in images],
    )


def _received(connection: socket.socket) -> bytes:
    chunks: list[bytes] = []
    while chunk := connection.recv(1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _metadata(answer: bytes) -> Any:
    head, separator, body = answer.partition(b"\r\n\r\n")
    if not separator:
        raise NotPlain("no end of headers")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    if status_line.split(" ")[1:2] != ["200"]:
        raise NotPlain(status_line)
    headers = dict(line.lower().partition(":")[::2] for line in header_lines)
    if "transfer-encoding" in headers:  # an HTTP/1.0 answer is never chunked; any other coding is not ours
        raise NotPlain("transfer-encoding")
    length = headers.get("content-length", "").strip()
    if length and int(length) != len(body):
        raise NotPlain("short answer")
    document = json.loads(body)
    if not isinstance(document, dict) or document.get("type") != "sync" or document.get("status_code") != 200:
        raise NotPlain("not a sync success")
    return document.get("metadata")


def _close(connections: list[socket.socket]) -> None:
    for connection in connections:
        connection.close()
