"""`backup` and `restore-backup` round trips on real containers, checked with the incus CLI, sha256sum,
tar and gpg rather than our own client."""

from __future__ import annotations

import json
import subprocess
import tarfile

import pytest

from tests.engine.apply_helpers import batch, instances
from tests.engine.backup_helpers import (
    KEEP,
    backup_json,
    delete_instance,
    gpg_key_fixture,  # noqa: F401 - the gpg_key fixture
    read_from,
    server_backups,
    volumes,
    write_in,
)
from tests.engine.lifecycle_helpers import applied

pytestmark = pytest.mark.incus


def test_domain_backup_round_trips_a_written_file_into_its_project(incusd, tmp_path):
    infra = applied(incusd, tmp_path, KEEP)
    write_in(incusd, "work", "work-a", "/root/proof", "kept-by-backup")
    # incompressible data: the export takes seconds, long enough for progress on stderr
    incusd.incus("exec", "work-a", "--project=work", "--", "sh", "-c", "head -c 40000000 /dev/urandom > /root/noise")
    result = batch(incusd, tmp_path, "backup", infra, "work", "--dir", str(tmp_path / "bk"), "--json")
    assert result.returncode == 0, result.stderr
    assert "exporting work/work-a on the server" in result.stderr
    report = json.loads(result.stdout)
    run = tmp_path / "bk" / report["path"].rsplit("/", 1)[-1]
    assert report["path"] == str(run) and run.name.startswith("anklume-backup-")
    assert [p.name for p in (tmp_path / "bk").iterdir()] == [run.name]  # no .partial left
    assert run.stat().st_mode & 0o777 == 0o700
    assert {(a["project"], a["instance"], a["file"]) for a in report["instances"]} == {
        ("work", "work-a", "work/work-a.tar.gz"),
        ("work", "work-b", "work/work-b.tar.gz"),
    }
    assert report["infra"]["file"] == "infra.tar.gz"
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=run, capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stdout.count(": OK") == 3, checked.stdout
    with tarfile.open(run / "infra.tar.gz") as tar:
        assert tar.extractfile("infra.yml").read().decode() == KEEP
    assert json.loads((run / "manifest.json").read_text())["instances"][0]["sha256"]
    assert server_backups(incusd, "work", "work-a") == server_backups(incusd, "work", "work-b") == []

    delete_instance(incusd, "work", "work-a")
    restored = batch(incusd, tmp_path, "restore-backup", infra, str(run / "work" / "work-a.tar.gz"), "--json")
    assert restored.returncode == 0, restored.stderr
    out = json.loads(restored.stdout)["restored"]
    assert [(r["project"], r["instance"], r["replaced"], r["readdressed"]) for r in out] == [
        ("work", "work-a", False, False)
    ]
    found = instances(incusd)
    assert found[("work", "work-a")]["status"] == "Stopped"
    assert [key for key in found if key[1] == "work-a"] == [("work", "work-a")]
    incusd.incus("start", "work-a", "--project=work")  # same MAC and static address as before: it starts
    assert read_from(incusd, "work", "work-a", "/root/proof") == "kept-by-backup"


def test_encrypted_backup_restores_only_with_the_secret_key(incusd, tmp_path, gpg_key, monkeypatch):
    infra = applied(incusd, tmp_path, KEEP)
    write_in(incusd, "work", "work-a", "/root/proof", "sealed")
    report = backup_json(incusd, tmp_path, infra, "work-a", "--dir", str(tmp_path / "bk"), "--recipient", gpg_key)
    assert report["encrypted_to"] == [gpg_key]
    run = tmp_path / "bk" / report["path"].rsplit("/", 1)[-1]
    archive = run / "work" / "work-a.tar.gz.gpg"
    assert report["instances"][0]["file"] == "work/work-a.tar.gz.gpg" and archive.is_file()
    assert (run / "infra.tar.gz.gpg").is_file() and not (run / "work" / "work-a.tar.gz").exists()
    assert archive.read_bytes()[:2] != b"\x1f\x8b"  # not the plain gzip tarball
    packets = subprocess.run(["gpg", "--batch", "--list-packets", str(archive)], capture_output=True, text=True)
    assert "pubkey enc packet" in packets.stdout + packets.stderr
    delete_instance(incusd, "work", "work-a")

    public = subprocess.run(["gpg", "--batch", "--export", gpg_key], capture_output=True, check=True).stdout
    trust = subprocess.run(["gpg", "--batch", "--export-ownertrust"], capture_output=True, check=True).stdout
    with monkeypatch.context() as elsewhere:  # the signer's public key, trusted, but no secret key
        empty = tmp_path / "no-keys"
        empty.mkdir(mode=0o700)
        elsewhere.setenv("GNUPGHOME", str(empty))
        subprocess.run(["gpg", "--batch", "--import"], input=public, capture_output=True, check=True)
        subprocess.run(["gpg", "--batch", "--import-ownertrust"], input=trust, capture_output=True, check=True)
        refused = batch(incusd, tmp_path, "restore-backup", infra, str(archive))
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], check=False, capture_output=True)
    assert refused.returncode == 1
    assert f"{archive}: gpg could not decrypt: decryption failed: No secret key" in refused.stderr
    assert ("work", "work-a") not in instances(incusd)
    assert volumes(incusd, "work") == ["work-b"]

    restored = batch(incusd, tmp_path, "restore-backup", infra, str(archive))
    assert restored.returncode == 0, restored.stderr
    assert read_from(incusd, "work", "work-a", "/root/proof") == "sealed"


def test_restore_never_overwrites_and_replace_needs_yes(incusd, tmp_path):
    infra = applied(incusd, tmp_path, KEEP)
    write_in(incusd, "work", "work-a", "/root/proof", "before")
    report = backup_json(incusd, tmp_path, infra, "work-a", "--dir", str(tmp_path / "bk"))
    archive = tmp_path / "bk" / report["path"].rsplit("/", 1)[-1] / "work" / "work-a.tar.gz"
    write_in(incusd, "work", "work-a", "/root/proof", "after")

    taken = batch(incusd, tmp_path, "restore-backup", infra, str(archive))
    assert taken.returncode == 1 and "work/work-a already exists" in taken.stderr
    unconfirmed = batch(incusd, tmp_path, "restore-backup", infra, str(archive), "--replace")
    assert unconfirmed.returncode == 4 and "--yes" in unconfirmed.stderr
    assert read_from(incusd, "work", "work-a", "/root/proof") == "after"

    replaced = batch(incusd, tmp_path, "restore-backup", infra, str(archive), "--replace", "--yes", "--json")
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads(replaced.stdout)["restored"][0]["replaced"] is True
    assert read_from(incusd, "work", "work-a", "/root/proof") == "before"
    assert sorted(name for project, name in instances(incusd) if project == "work") == ["work-a", "work-b"]
    assert instances(incusd)[("work", "work-a")]["status"] == "Stopped"


def test_replace_never_touches_a_protected_instance(incusd, tmp_path):
    infra = applied(incusd, tmp_path, KEEP)
    report = backup_json(incusd, tmp_path, infra, "work-b", "--dir", str(tmp_path / "bk"))
    archive = tmp_path / "bk" / report["path"].rsplit("/", 1)[-1] / "work" / "work-b.tar.gz"
    write_in(incusd, "work", "work-b", "/root/proof", "still-here")
    result = batch(incusd, tmp_path, "restore-backup", infra, str(archive), "--replace", "--yes")
    assert result.returncode == 4
    assert "work/work-b is protected" in result.stderr
    assert instances(incusd)[("work", "work-b")]["status"] == "Running"
    assert read_from(incusd, "work", "work-b", "/root/proof") == "still-here"
    assert sorted(name for project, name in instances(incusd) if project == "work") == ["work-a", "work-b"]


def test_restore_under_a_new_name_starts_beside_the_original(incusd, tmp_path):
    infra = applied(incusd, tmp_path, KEEP)
    write_in(incusd, "work", "work-a", "/root/proof", "twin")
    report = backup_json(incusd, tmp_path, infra, "work-a", "--dir", str(tmp_path / "bk"))
    archive = tmp_path / "bk" / report["path"].rsplit("/", 1)[-1] / "work" / "work-a.tar.gz"
    result = batch(incusd, tmp_path, "restore-backup", infra, str(archive), "--name", "work-a-copy", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["restored"][0]["readdressed"] is True
    incusd.incus("start", "work-a-copy", "--project=work")
    copy = incusd.query("/1.0/instances/work-a-copy?project=work")
    original = incusd.query("/1.0/instances/work-a?project=work")
    assert copy["config"]["volatile.eth0.hwaddr"] != original["config"]["volatile.eth0.hwaddr"]
    assert "ipv4.address" in original["expanded_devices"]["eth0"]
    assert "ipv4.address" not in copy["expanded_devices"]["eth0"]
    assert read_from(incusd, "work", "work-a-copy", "/root/proof") == "twin"
    assert instances(incusd)[("work", "work-a")]["status"] == "Running"


def test_a_backup_folder_restores_its_machines_and_infra_source_never_over_a_file(incusd, tmp_path):
    infra = applied(incusd, tmp_path, KEEP)
    report = backup_json(incusd, tmp_path, infra, "work-a", "--dir", str(tmp_path / "bk"))
    run = tmp_path / "bk" / report["path"].rsplit("/", 1)[-1]
    delete_instance(incusd, "work", "work-a")
    out = tmp_path / "recovered"
    result = batch(incusd, tmp_path, "restore-backup", infra, str(run), "--infra-out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["infra_files"] == [str(out / "infra.yml")]
    assert (out / "infra.yml").read_text() == KEEP
    assert ("work", "work-a") in instances(incusd)

    (out / "infra.yml").write_text("# edited since\n")
    delete_instance(incusd, "work", "work-a")
    again = batch(incusd, tmp_path, "restore-backup", infra, str(run), "--infra-out", str(out))
    assert again.returncode == 1 and "infra.yml already exists" in again.stderr
    assert (out / "infra.yml").read_text() == "# edited since\n"
    assert ("work", "work-a") not in instances(incusd)
