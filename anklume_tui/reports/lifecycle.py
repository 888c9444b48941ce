"""Documents about machines' lifecycle: snapshot, disp, golden, backup, restore-backup, copy-file, move."""

from __future__ import annotations

from typing import Literal

from .base import Model, Report


class SnapshotOut(Model):
    name: str
    created_at: str | None  # ISO 8601
    expires_at: str | None  # ISO 8601; null: never expires
    origin: Literal["manual", "pre-apply", "scheduled"]
    size: int | None  # bytes, when Incus reports it


class SnapshotTimelineOut(Model):
    project: str
    instance: str
    snapshots: list[SnapshotOut]


class SnapshotOutcomeOut(Model):
    project: str
    instance: str
    snapshot: str
    outcome: Literal["created", "skipped", "restored", "deleted"]
    restarted: bool  # restore of a running instance: Incus stopped and started it again


class SnapshotReport(Report):
    action: Literal["create", "restore", "delete", "list"]
    instances: list[SnapshotTimelineOut]  # list only
    outcomes: list[SnapshotOutcomeOut]
    missing: list[str]  # declared machines with no instance (project/instance)
    error: str | None


class DispReport(Report):
    project: str
    name: str
    image: str
    type: Literal["container", "virtual-machine"]
    exit_code: int | None  # the command's, when one ran
    stdout: str
    stderr: str


class GoldenOut(Model):
    project: str
    instance: str
    snapshot: str
    derived: str | None  # derive: the new instance
    alias: str | None  # publish: the image alias
    fingerprint: str | None


class GoldenReport(Report):
    action: Literal["create", "derive", "publish", "list"]
    items: list[GoldenOut]


# backup, restore-backup (engine/backup/export.py, engine/backup/restore.py)


class BackupArchiveOut(Model):
    file: str  # relative to the backup folder
    size: int  # bytes, as written (encrypted when encrypted_to is not empty)
    sha256: str
    project: str | None  # null for the infra archive
    instance: str | None
    type: str | None  # container | virtual-machine


class BackupReport(Report):
    path: str | None  # the backup folder; null when nothing was kept
    encrypted_to: list[str]  # gpg recipients; empty: not encrypted
    instances: list[BackupArchiveOut]
    infra: BackupArchiveOut | None
    missing: list[str]  # declared machines with no instance (project/instance)
    error: str | None


class RestoredOut(Model):
    file: str
    project: str
    instance: str
    from_instance: str  # its name in the backup
    replaced: bool  # an existing instance of that name was replaced (--replace)
    readdressed: bool  # new name or project: new MAC addresses, static addresses dropped (DHCP)


class RestoreBackupReport(Report):
    source: str  # the file or backup folder given
    restored: list[RestoredOut]  # restored instances are left stopped
    infra_files: list[str]  # written by --infra-out
    error: str | None


class CopyFileReport(Report):
    """`copy-file`: what was copied where, and what in the infra allowed it (or why it was refused)."""

    source: str
    destination: str  # the file written (inside the destination directory when one was given)
    copied: bool
    link: Literal["same-domain", "network-policy", "shared-volume"] | None
    link_detail: str | None
    size: int  # bytes written
    mode: str | None  # octal, as kept from the source ("0640")
    uid: int | None
    gid: int | None
    error: str | None  # the refusal or failure, when not copied


class MoveReport(Report):
    """`move`: which machine went from which cluster member to which, and whether it runs again there."""

    machine: str
    project: str
    instance: str
    source: str | None  # the member it was on (null when not read: a refusal before)
    target: str
    moved: bool  # false when it was already there, or on a refusal or failure
    was_running: bool | None  # it was, and so was stopped and started again (null when not read)
    error: str | None
