"""GnuPG for encrypted backups: the only place that runs `gpg`. Errors leave naming the file to the caller.

Encryption goes to public keys named by the user (`--recipient`), with `--trust-model always`: naming the
key is the trust decision, and batch mode cannot ask. Decryption uses whatever secret key the keyring
(`$GNUPGHOME`, else ~/.gnupg) and its agent hold. Anyone holding a public key can encrypt to it, so the
manifest is signed (detached) with a secret key, and a signature counts only when the keyring trusts its
key fully or ultimately (the user's own keys are ultimately trusted), never merely because it is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ...errors import Failed

CHUNK = 1 << 20
BASE = ("--batch", "--no-tty", "--quiet")


class GpgError(Failed):
    """gpg is missing, a key is unknown, or gpg failed; the message is gpg's own reason."""


def _gpg() -> str:
    found = shutil.which("gpg")
    if found is None:
        raise GpgError("gpg is not installed (Debian: apt install gnupg)")
    return found


def keyring() -> str:
    return os.environ.get("GNUPGHOME") or str(Path.home() / ".gnupg")


def _reason(stderr: bytes, code: int | None, path: Path) -> str:
    """gpg's last complaints, once each, without the file name the caller already gives."""
    lines = []
    for line in stderr.decode(errors="replace").splitlines():
        line = line.strip().removeprefix("gpg: ").removeprefix(f"{path}: ").strip()
        if line and line not in lines:
            lines.append(line)
    return "; ".join(lines[-3:]) or f"exit code {code}"


def check_recipients(recipients: Sequence[str]) -> None:
    """Every recipient names a public key of the keyring (checked before any work starts)."""
    gpg = _gpg()
    for recipient in recipients:
        found = subprocess.run(
            [gpg, *BASE, "--with-colons", "--list-keys", "--", recipient], capture_output=True, check=False
        )
        if found.returncode != 0:
            raise GpgError(f"no public key for recipient {recipient!r} in the GnuPG keyring {keyring()}")


def check_signer(key: str | None) -> None:
    """The keyring holds a secret key to sign with: `key`, else any (gpg then signs with its default)."""
    named = ["--", key] if key else []
    found = subprocess.run(
        [_gpg(), *BASE, "--with-colons", "--list-secret-keys", *named], capture_output=True, check=False
    )
    if found.returncode != 0 or not any(line.startswith(b"sec:") for line in found.stdout.splitlines()):
        which = f"secret key {key!r}" if key else "secret key"
        raise GpgError(f"no {which} to sign the backup's manifest with in the GnuPG keyring {keyring()}")


def sign(path: Path, signature: Path, key: str | None) -> None:
    """Write a detached signature of `path` (with `key`, else gpg's default key) to `signature`."""
    user = ["--local-user", key] if key else []
    done = subprocess.run(
        [_gpg(), *BASE, "--yes", *user, "--output", str(signature), "--detach-sign", "--", str(path)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise GpgError(f"gpg could not sign: {_reason(done.stderr, done.returncode, path)}")


@dataclass(frozen=True)
class Verified:
    """What gpg says of a detached signature over some bytes."""

    matches: bool | None  # False: the bytes were changed after signing; None: gpg could not tell
    trusted: bool  # matches, one signature only, by a valid key the keyring trusts fully or ultimately
    reason: str  # why it is not trusted, when it is not


def verify(signature: Path, data: bytes) -> Verified:
    """Check `signature` over `data` (given on stdin: the bytes checked are the bytes the caller uses)."""
    done = subprocess.run(
        [_gpg(), *BASE, "--status-fd", "1", "--verify", "--", str(signature), "-"],
        input=data,
        capture_output=True,
        check=False,
    )
    status = [line.split()[1:] for line in done.stdout.splitlines() if line.startswith(b"[GNUPG:] ")]
    kinds = {words[0].decode() for words in status if words}
    fingerprint = next((w[1].decode() for w in status if w[0] == b"VALIDSIG" and len(w) > 1), None)
    if sum(1 for w in status if w and w[0] == b"NEWSIG") > 1:
        return Verified(None, False, "it holds more than one signature")
    if "BADSIG" in kinds:
        return Verified(False, False, "BAD signature: changed after it was signed")
    if "GOODSIG" in kinds and fingerprint:
        if kinds & {"TRUST_FULLY", "TRUST_ULTIMATE"}:
            return Verified(True, True, "")
        return Verified(True, False, f"signed by key {fingerprint}, which the keyring does not trust")
    if kinds & {"EXPKEYSIG", "REVKEYSIG", "EXPSIG"}:
        return Verified(True, False, "signed by an expired or revoked key")
    if "NO_PUBKEY" in kinds:
        return Verified(None, False, "signed by a key the keyring does not hold")
    return Verified(None, False, _reason(done.stderr, done.returncode, signature))


class Encryptor:
    """Bytes written here reach `path` encrypted to the recipients (gpg writes the file itself)."""

    def __init__(self, proc: asyncio.subprocess.Process, path: Path) -> None:
        self._proc = proc
        self.path = path

    @classmethod
    async def start(cls, path: Path, recipients: Sequence[str]) -> Encryptor:
        to = [arg for r in recipients for arg in ("--recipient", r)]
        proc = await asyncio.create_subprocess_exec(
            _gpg(),
            *BASE,
            "--yes",
            "--trust-model",
            "always",
            "--compress-algo",
            "none",  # the tarball is gzip already
            *to,
            "--output",
            str(path),
            "--encrypt",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc, path)

    async def write(self, chunk: bytes) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(chunk)
            await self._proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):  # gpg stopped: its own message says why
            await self.close()
            raise GpgError("gpg stopped while encrypting") from None

    async def close(self) -> None:
        """End of data: wait for gpg; GpgError with its reason when it failed (a full disk, a bad key)."""
        assert self._proc.stdin is not None
        if not self._proc.stdin.is_closing():
            self._proc.stdin.close()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                await self._proc.stdin.wait_closed()
        stderr = await self._proc.stderr.read() if self._proc.stderr else b""
        code = await self._proc.wait()
        if code != 0:
            raise GpgError(f"gpg could not encrypt: {_reason(stderr, code, self.path)}")

    async def abort(self) -> None:
        if self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()


async def decrypted_chunks(path: Path) -> AsyncIterator[bytes]:
    """The plaintext of an encrypted file, as it is decrypted; GpgError at the end when gpg fails (then
    the chunks already given must be thrown away: gpg checks integrity last)."""
    proc = await asyncio.create_subprocess_exec(
        _gpg(), *BASE, "--decrypt", "--", str(path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    stderr_task = asyncio.ensure_future(proc.stderr.read())
    try:
        while chunk := await proc.stdout.read(CHUNK):
            yield chunk
        code = await proc.wait()
        if code != 0:
            raise GpgError(f"gpg could not decrypt: {_reason(await stderr_task, code, path)}")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        stderr_task.cancel()


@contextlib.contextmanager
def decrypted_stream(path: Path) -> Iterator[IO[bytes]]:
    """The plaintext of an encrypted file as a blocking stream (for a thread that parses it). On leaving,
    gpg is run to its end: when it failed (no key, damaged file), GpgError with its reason, which is also
    what the reader's own error meant."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen([_gpg(), *BASE, "--decrypt", "--", str(path)], stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        failure: Exception | None = None
        try:
            try:
                yield proc.stdout
            except Exception as exc:  # re-raised below, unless gpg failed: then its reason is the cause
                failure = exc
            while proc.stdout.read(CHUNK):  # what the reader left (tar padding): gpg ends once it is read
                pass
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
        if code != 0:
            errors.seek(0)
            raise GpgError(f"gpg could not decrypt: {_reason(errors.read(), code, path)}")
        if failure is not None:
            raise failure
