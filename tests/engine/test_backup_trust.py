"""restore-backup never trusts the archive (issue 15 point 6): a genuine backup edited to ask for host
privileges — in the `backup.yaml` Incus creates the instance from, in the index, in a snapshot or a profile —
is refused naming what and the flag that allows it, and nothing appears in Incus (read with the incus CLI);
with the flags it restores. A manifest entry leaving the backup folder is refused."""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from tests.engine.apply_helpers import batch, instances
from tests.engine.backup_helpers import KEEP, backup_json, delete_instance, volumes
from tests.engine.lifecycle_helpers import applied

pytestmark = pytest.mark.incus

INDEX, INSTANCE_YAML = "backup/index.yaml", "backup/container/backup.yaml"


def forged(genuine: Path, out: Path, edits: dict[str, object]) -> Path:
    """A copy of the genuine archive whose configuration documents went through `edits[name]` (text in,
    text out), everything else byte for byte."""
    with tarfile.open(genuine, "r:gz") as source, tarfile.open(out, "w:gz") as target:
        for member in source:
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name in edits:
                data = edits[member.name](data.decode()).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    return out


def config_key(key: str, value: str, after: str = "") -> object:
    """Insert `key: value` into the first config holding image.description (after the text `after`)."""

    def edit(text: str) -> str:
        start = text.index(after) if after else 0
        found = re.compile(r"^( *)image\.description:", re.M).search(text, start)
        return text[: found.start()] + f"{found.group(1)}{key}: {value}\n" + text[found.start() :]

    return edit


def host_root_disk(field: str = "devices") -> object:
    """Add a disk device taking the host's / to the first `field:` mapping."""

    def edit(text: str) -> str:
        found = re.compile(rf"^( *){field}:\n", re.M).search(text)
        pad = found.group(1) + "  "
        device = f"{pad}hostroot:\n{pad}  type: disk\n{pad}  source: /\n{pad}  path: /mnt/host\n"
        return text[: found.end()] + device + text[found.end() :]

    return edit


def privileged_profile(text: str) -> str:
    return text.replace(
        "  profiles:\n  - config: {}\n", '  profiles:\n  - config:\n      security.privileged: "1"\n', 1
    )


REFUSED = {
    "privileged in backup.yaml": ({INSTANCE_YAML: config_key("security.privileged", '"true"')}, "security.privileged"),
    "raw.lxc in the index": ({INDEX: config_key("raw.lxc", "lxc.environment = A=1")}, "raw.lxc"),
    "raw.idmap": ({INSTANCE_YAML: config_key("raw.idmap", "both 0 0")}, "raw.idmap"),
    "security.idmap.base": ({INDEX: config_key("security.idmap.base", '"0"')}, "security.idmap.base"),
    "raw.lxc in a snapshot": ({INSTANCE_YAML: config_key("raw.lxc", "x", after="snapshots:")}, "raw.lxc"),
    "privileged profile": ({INDEX: privileged_profile}, "security.privileged"),
}


def test_an_archive_asking_for_host_privileges_is_refused_naming_it_and_its_flag(incusd, tmp_path):
    infra = applied(incusd, tmp_path, KEEP)
    incusd.incus("snapshot", "create", "work-a", "snap0", "--project=work")
    report = backup_json(incusd, tmp_path, infra, "work-a", "--dir", str(tmp_path / "bk"))
    genuine = tmp_path / "bk" / report["path"].rsplit("/", 1)[-1] / "work" / "work-a.tar.gz"
    delete_instance(incusd, "work", "work-a")

    for case, (edits, key) in REFUSED.items():
        archive = forged(genuine, tmp_path / "work-a.tar.gz", edits)
        result = batch(incusd, tmp_path, "restore-backup", infra, str(archive))
        assert result.returncode == 4, (case, result.stderr)
        assert f"'{key}'" in result.stderr and "--allow-unsafe-config allows it" in result.stderr, case
        assert "nothing was restored" in result.stderr and "Traceback" not in result.stderr
        assert ("work", "work-a") not in instances(incusd) and volumes(incusd, "work") == ["work-b"], case

    for field in ("devices", "expanded_devices"):
        archive = forged(genuine, tmp_path / "work-a.tar.gz", {INDEX: host_root_disk(field)})
        result = batch(incusd, tmp_path, "restore-backup", infra, str(archive), "--allow-unsafe-config")
        assert result.returncode == 4, result.stderr
        assert "disk 'hostroot' from host path '/'" in result.stderr
        assert "--allow-disk-source / allows it" in result.stderr
        assert ("work", "work-a") not in instances(incusd) and volumes(incusd, "work") == ["work-b"]

    edits = {
        INSTANCE_YAML: lambda t: host_root_disk()(config_key("security.privileged", '"true"')(t)),
        INDEX: config_key("raw.lxc", '"lxc.environment = ANKLUME=1"'),
    }
    archive = forged(genuine, tmp_path / "work-a.tar.gz", edits)
    allowed = ("--allow-unsafe-config", "--allow-disk-source", "/")
    result = batch(incusd, tmp_path, "restore-backup", infra, str(archive), *allowed)
    assert result.returncode == 0, result.stderr
    restored = incusd.query("/1.0/instances/work-a?project=work")
    assert restored["config"]["security.privileged"] == "true" and restored["status"] == "Stopped"
    assert restored["devices"]["hostroot"]["source"] == "/"


def test_a_manifest_entry_leaving_the_backup_folder_is_refused(incusd, tmp_path):
    infra = applied(incusd, tmp_path, KEEP)
    report = backup_json(incusd, tmp_path, infra, "work-a", "--dir", str(tmp_path / "bk"))
    run = tmp_path / "bk" / report["path"].rsplit("/", 1)[-1]
    delete_instance(incusd, "work", "work-a")
    manifest = json.loads((run / "manifest.json").read_text())
    outside = tmp_path / "outside.tar.gz"
    outside.write_bytes((run / "work" / "work-a.tar.gz").read_bytes())  # a readable archive out there
    escape = "../" * len(run.relative_to(tmp_path).parts) + "outside.tar.gz"
    manifest["instances"][0]["file"] = escape
    (run / "manifest.json").write_text(json.dumps(manifest))

    result = batch(incusd, tmp_path, "restore-backup", infra, str(run))
    assert result.returncode == 1, result.stderr
    assert f"entry {escape!r} is not a file inside the backup folder; refused" in result.stderr
    assert ("work", "work-a") not in instances(incusd) and volumes(incusd, "work") == ["work-b"]

    manifest["instances"][0]["file"] = "work/link.tar.gz"
    (run / "work" / "link.tar.gz").symlink_to(outside)
    (run / "manifest.json").write_text(json.dumps(manifest))
    result = batch(incusd, tmp_path, "restore-backup", infra, str(run))
    assert result.returncode == 1 and "leads out of the backup folder" in result.stderr, result.stderr
    assert ("work", "work-a") not in instances(incusd) and volumes(incusd, "work") == ["work-b"]
