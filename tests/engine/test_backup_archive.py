"""Checking an archive before a restore, without Incus: what Incus's index says, and a file cut short
anywhere (even only its gzip trailer) refused."""

from __future__ import annotations

import gzip
import io
import os
import tarfile

import pytest

from anklume_tui.engine.backup.restore import Archive, RestoreError, check_archive

INDEX = b"name: work-a\ntype: container\nconfig:\n  container:\n    name: work-a\n    project: work\n"


def _tarball(path, index: bytes | None = INDEX) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        members = [("backup/index.yaml", index)] if index is not None else []
        for name, data in [*members, ("backup/container/rootfs/noise", os.urandom(200_000))]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = gzip.compress(buf.getvalue())
    path.write_bytes(data)
    return data


def test_an_archive_is_read_for_the_instance_its_project_and_type(tmp_path):
    archive = tmp_path / "work-a.tar.gz"
    _tarball(archive)
    checked = check_archive(Archive(archive), lambda _p: None)
    assert (checked.instance, checked.project, checked.type) == ("work-a", "work", "container")


@pytest.mark.parametrize("cut", [8, 4000], ids=["gzip trailer only", "inside the data"])
def test_an_archive_cut_short_is_refused_naming_it(tmp_path, cut):
    archive = tmp_path / "work-a.tar.gz"
    archive.write_bytes(_tarball(archive)[:-cut])
    with pytest.raises(RestoreError, match=f"{archive}: not a readable Incus backup, truncated or corrupt"):
        check_archive(Archive(archive), lambda _p: None)


def test_a_tarball_without_an_incus_index_is_refused(tmp_path):
    archive = tmp_path / "other.tar.gz"
    _tarball(archive, index=None)
    with pytest.raises(RestoreError, match="not an Incus backup"):
        check_archive(Archive(archive), lambda _p: None)


HOSTILE_INDEXES = {
    "deep-nesting": b"name: " + b"[" * 50_000 + b"]" * 50_000 + b"\n",
    "200,000 scalars": b"name: [" + b",".join([b"1"] * 200_000) + b"]\n",
    "9 MiB": b"name: work-a\n" + b"#" * (9 * 1024 * 1024) + b"\n",
}


@pytest.mark.parametrize("index", HOSTILE_INDEXES.values(), ids=HOSTILE_INDEXES.keys())
def test_a_hostile_index_is_refused_within_the_loaders_bounds(tmp_path, index):
    archive = tmp_path / "work-a.tar.gz"
    _tarball(archive, index=index)
    with pytest.raises(RestoreError, match=f"{archive}: backup/index.yaml refused: "):
        check_archive(Archive(archive), lambda _p: None)


def _with_entries(path, *extra: tarfile.TarInfo) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("backup/index.yaml")
        info.size = len(INDEX)
        tar.addfile(info, io.BytesIO(INDEX))
        for member in extra:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    path.write_bytes(gzip.compress(buf.getvalue()))


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 1
    return info


STRUCTURE_ATTACKS = {
    "backup.yaml a link into the rootfs": (_link("backup/container/backup.yaml", "rootfs/etc/x.yaml"), "is a link"),
    "rootfs a link to /": (_link("backup/container/rootfs", "/"), "is a link"),
    "an entry climbing out": (_file("backup/container/rootfs/../../../../etc/cron.d/x"), "leaves the archive"),
    "a hard link out": (_link("backup/container/rootfs/x", "../../../etc/shadow", tarfile.LNKTYPE), "links out"),
    "a second index": (_file("backup/index.yaml"), "is not one regular file"),
}


@pytest.mark.parametrize("entry,said", STRUCTURE_ATTACKS.values(), ids=STRUCTURE_ATTACKS.keys())
def test_an_archive_whose_structure_points_elsewhere_is_refused(tmp_path, entry, said):
    archive = tmp_path / "work-a.tar.gz"
    _with_entries(archive, entry)
    with pytest.raises(RestoreError, match=f"{archive}: .*{said}"):
        check_archive(Archive(archive), lambda _p: None)
