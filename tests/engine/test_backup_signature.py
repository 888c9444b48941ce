"""An encrypted backup's manifest is signed, and a restore believes only a signature by a key the keyring
trusts (issue 15 point 6): anyone holding the public key can encrypt archives, so a forged backup (an archive
swapped with its checksums recomputed, a manifest re-signed by another key, known or not, or not signed at
all) is refused and nothing appears in Incus; the genuine one restores. Real gpg, throwaway keyrings."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.engine.apply_helpers import batch, instances
from tests.engine.backup_helpers import (
    KEEP,
    backup_json,
    delete_instance,
    gpg_key_fixture,  # noqa: F401 - the gpg_key fixture
    read_from,
    volumes,
    write_in,
)
from tests.engine.lifecycle_helpers import applied

pytestmark = pytest.mark.incus


def gpg(*args: str, home: Path | None = None, data: bytes | None = None) -> bytes:
    env = {**os.environ, **({"GNUPGHOME": str(home)} if home else {})}
    done = subprocess.run(["gpg", "--batch", "--yes", *args], input=data, capture_output=True, env=env, check=True)
    return done.stdout


@pytest.fixture
def forger() -> Path:
    """Another person's keyring, with a key of their own."""
    home = Path(tempfile.mkdtemp(prefix="anklume-forger-"))
    gpg("--passphrase", "", "--quick-gen-key", "Forger <forger@anklume.test>", "future-default", home=home)
    yield home
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(home)}, check=False)
    shutil.rmtree(home, ignore_errors=True)


def set_checksum(run: Path, entry: str, data: bytes) -> None:
    """Write `data` as the archive `entry` and its checksum into manifest.json and SHA256SUMS, as a forger
    with write access to the folder would."""
    (run / entry).write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    manifest = json.loads((run / "manifest.json").read_text())
    for item in [*manifest["instances"], manifest["infra"]]:
        if item["file"] == entry:
            item["sha256"], item["size"] = digest, len(data)
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    sums = [line for line in (run / "SHA256SUMS").read_text().splitlines() if not line.endswith(f"  {entry}")]
    (run / "SHA256SUMS").write_text("\n".join([*sums, f"{digest}  {entry}"]) + "\n")


def test_a_forged_encrypted_backup_is_refused_and_the_signed_one_restores(incusd, tmp_path, gpg_key, forger):
    infra = applied(incusd, tmp_path, KEEP)
    write_in(incusd, "work", "work-a", "/root/proof", "genuine")
    report = backup_json(incusd, tmp_path, infra, "work-a", "--dir", str(tmp_path / "bk"), "--recipient", gpg_key)
    genuine = tmp_path / "bk" / report["path"].rsplit("/", 1)[-1]
    entry = "work/work-a.tar.gz.gpg"
    checked = subprocess.run(["gpg", "--batch", "--verify", "manifest.json.sig", "manifest.json"], cwd=genuine)
    assert checked.returncode == 0
    delete_instance(incusd, "work", "work-a")
    # what a forger holding only the public key makes: their own archive, encrypted to the user
    plain = gpg("--decrypt", str(genuine / entry))
    swapped = gpg("--trust-model", "always", "--recipient", gpg_key, "--encrypt", data=plain)

    def attempt(label: str, forge, *extra: str) -> subprocess.CompletedProcess[str]:
        run = tmp_path / label
        shutil.copytree(genuine, run)
        forge(run)
        result = batch(incusd, tmp_path, "restore-backup", infra, str(run), *extra)
        assert "Traceback" not in result.stderr
        assert ("work", "work-a") not in instances(incusd) and volumes(incusd, "work") == ["work-b"], label
        return result

    result = attempt("swapped", lambda run: set_checksum(run, entry, swapped))
    assert result.returncode == 1, result.stderr
    assert "BAD signature" in result.stderr and "altered after it was signed; refused" in result.stderr

    def resigned(run: Path) -> None:
        set_checksum(run, entry, swapped)
        gpg("--output", str(run / "manifest.json.sig"), "--detach-sign", str(run / "manifest.json"), home=forger)

    result = attempt("resigned", resigned)
    assert result.returncode == 4, result.stderr
    assert "not signed by a key this keyring trusts (signed by a key the keyring does not hold)" in result.stderr
    assert "--allow-unsigned restores it anyway" in result.stderr

    gpg("--import", data=gpg("--export", "forger@anklume.test", home=forger))  # known, never trusted
    result = attempt("resigned-known", resigned)
    assert result.returncode == 4 and "which the keyring does not trust" in result.stderr, result.stderr

    def unsigned(run: Path) -> None:
        set_checksum(run, entry, swapped)
        (run / "manifest.json.sig").unlink()

    result = attempt("unsigned", unsigned)
    assert result.returncode == 4 and "manifest.json.sig is missing" in result.stderr, result.stderr

    loose = tmp_path / "work-a.tar.gz.gpg"
    loose.write_bytes(swapped)
    result = batch(incusd, tmp_path, "restore-backup", infra, str(loose))
    assert result.returncode == 4 and "--allow-unsigned" in result.stderr, result.stderr
    assert ("work", "work-a") not in instances(incusd)

    result = batch(incusd, tmp_path, "restore-backup", infra, str(genuine))
    assert result.returncode == 0, result.stderr
    assert read_from(incusd, "work", "work-a", "/root/proof") == "genuine"
