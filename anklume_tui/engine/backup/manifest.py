"""A backup folder's manifest as a restore reads it: from outside, so checked before anything is used.

Every entry names a file inside the folder (relative, no `..`, no link leading out). An encrypted backup is
restored only when `manifest.json.sig` is a good signature of the very bytes read, by a key the keyring
trusts (gpg.verify): anyone holding the public key could otherwise write archives, checksums and manifest
alike. `--allow-unsigned` (RestoreTrust.unsigned) accepts one without a trusted signature, never one whose
signature does not match. A signature beside a plain backup is checked the same way. A plain backup without
one is as trustworthy as the folder it sits in (written private, 0700).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from pydantic import ValidationError

from . import gpg
from .export import MANIFEST, SIGNATURE, Manifest
from .trust import UNSIGNED_FLAG, RestoreError, RestoreRefused, RestoreTrust

ENCRYPTED_SUFFIXES = (".gpg", ".pgp", ".asc")
MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # a few hundred bytes per archive


def encrypted(path: Path | str) -> bool:
    return str(path).endswith(ENCRYPTED_SUFFIXES)


def read_manifest(run: Path, trust: RestoreTrust) -> Manifest | None:
    """The run folder's manifest, checked; None when it has none; RestoreError (or RestoreRefused) when it
    is unreadable, names a file outside the folder, or is not vouched for as an encrypted backup must be."""
    path = run / MANIFEST
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
        if len(data) > MAX_MANIFEST_BYTES:
            raise RestoreError(f"{path}: not a backup manifest (larger than 16 MiB)")
        manifest = Manifest.model_validate_json(data)
    except (OSError, ValidationError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RestoreError(f"{path}: not a readable backup manifest ({first})") from None
    entries = [*manifest.instances, *([manifest.infra] if manifest.infra else [])]
    for entry in entries:
        _inside(run, entry.file, path)
    if (run / SIGNATURE).exists() or manifest.encrypted_to or any(encrypted(e.file) for e in entries):
        _vouched_for(run, data, trust)
    return manifest


def _inside(run: Path, file: str, manifest: Path) -> None:
    parts = PurePosixPath(file).parts
    if not parts or file.startswith("/") or ".." in parts or "\0" in file or "\\" in file:
        raise RestoreError(f"{manifest}: entry {file!r} is not a file inside the backup folder; refused")
    if not (run / file).resolve().is_relative_to(run.resolve()):
        raise RestoreError(f"{manifest}: entry {file!r} leads out of the backup folder (a link); refused")


def _vouched_for(run: Path, data: bytes, trust: RestoreTrust) -> None:
    path, signature = run / MANIFEST, run / SIGNATURE
    if not signature.is_file():
        if trust.unsigned:
            return
        raise RestoreRefused(
            f"{path}: an encrypted backup without a signed manifest ({SIGNATURE} is missing): anyone holding "
            f"the public key could have written it; refused ({UNSIGNED_FLAG} restores it anyway)"
        )
    try:
        verified = gpg.verify(signature, data)
    except gpg.GpgError as exc:
        raise RestoreError(f"{path}: its signature cannot be checked: {exc}") from None
    if verified.matches is False:
        raise RestoreError(f"{path}: {verified.reason}: the backup was altered after it was signed; refused")
    if not verified.trusted and not trust.unsigned:
        raise RestoreRefused(
            f"{path}: not signed by a key this keyring trusts ({verified.reason}); refused "
            f"({UNSIGNED_FLAG} restores it anyway)"
        )
