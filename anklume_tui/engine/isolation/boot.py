"""The isolation ruleset at boot on Debian (SPEC §9.1), and the only `systemctl` call site.

Debian's nftables.service runs `nft -f /etc/nftables.conf` at boot; that file includes nothing else and the
service is not enabled on a stock install. So persisting means three things: our copy of the ruleset in
/etc/nftables.d/, an `include` of it at the end of /etc/nftables.conf (after the user's own content, which
is kept, and after its `flush ruleset`), and the service enabled. `boot_state` tells doctor what is missing.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ...psot.generate import write_atomic
from ..host import paths
from .nft import persist_ruleset

SERVICE = "nftables.service"
RULESET_NAME = "anklume-isolation.nft"
INCLUDE_COMMENT = "# anklume-tui: the network isolation ruleset, loaded at boot (SPEC §9.1)"


@dataclass(frozen=True)
class BootFiles:
    """Where boot loading is arranged; tests use a private root (`ANKLUME_HOST_ROOT`)."""

    conf: Path = field(default_factory=paths.nftables_conf_file)
    persist_dir: Path = field(default_factory=paths.nft_persist_dir)
    root: Path = field(default_factory=paths.host_root)
    systemctl: str = "systemctl"

    @property
    def ruleset(self) -> Path:
        return self.persist_dir / RULESET_NAME


@dataclass
class BootOutcome:
    persisted: Path | None = None
    how: str | None = None  # one line on how the ruleset comes back at boot, when it does
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BootState:
    persisted: bool  # our copy exists
    conf_exists: bool  # nftables is installed
    included: bool  # the boot configuration includes our copy (after any `flush ruleset`)
    enabled: bool | None  # nftables.service enabled; None: systemctl could not tell
    why_unknown: str = ""


def include_statement(ruleset: Path) -> str:
    text = str(ruleset)
    if any(c in text for c in '"\n\\'):  # our own path, but it becomes nft text
        raise ValueError(f"path unusable in an nft include: {text!r}")
    return f'include "{text}"'


def includes(conf_text: str, ruleset: Path) -> bool:
    """Whether `nft -f` of this text ends with our ruleset loaded: an include naming it (or a glob matching
    it) that no later `flush ruleset` undoes."""
    found = False
    for raw in conf_text.splitlines():
        for statement in raw.split("#", 1)[0].split(";"):
            words = statement.split()
            if words[:2] == ["flush", "ruleset"]:
                found = False
            elif len(words) == 2 and words[0] == "include":
                target = words[1].strip('"')
                found = found or target == str(ruleset) or fnmatch.fnmatchcase(str(ruleset), target)
    return found


def _systemctl(files: BootFiles, *args: str) -> subprocess.CompletedProcess[str]:
    """systemctl on the host root, or offline on a private one (`--root`); works without systemd running."""
    where = [] if files.root == Path("/") else [f"--root={files.root}"]
    return subprocess.run([files.systemctl, *where, *args], capture_output=True, text=True, timeout=60)


def service_enabled(files: BootFiles) -> tuple[bool | None, str]:
    """(enabled, why it is unknown). `is-enabled` answers `enabled` (or `static`/`alias`...) or not."""
    if shutil.which(files.systemctl) is None:
        return None, f"{files.systemctl} not found"
    try:
        done = _systemctl(files, "is-enabled", SERVICE)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"systemctl failed: {exc}"
    state = done.stdout.strip()
    if state in ("enabled", "enabled-runtime", "alias", "static", "linked"):
        return True, ""
    if state in ("disabled", "masked", "masked-runtime", "indirect", "generated", "transient"):
        return False, ""
    return None, (done.stderr or done.stdout).strip() or f"systemctl is-enabled exited {done.returncode}"


def boot_state(files: BootFiles | None = None) -> BootState:
    files = files or BootFiles()
    try:
        conf_text = files.conf.read_text(encoding="utf-8", errors="replace")
    except OSError:
        conf_text = None
    enabled, why = service_enabled(files)
    return BootState(
        persisted=files.ruleset.is_file(),
        conf_exists=conf_text is not None,
        included=conf_text is not None and includes(conf_text, files.ruleset),
        enabled=enabled,
        why_unknown=why,
    )


def _add_include(files: BootFiles) -> bool:
    """Append our include to the boot configuration unless it is there; True when added. The user's text
    is kept as it is and the file replaced atomically (its mode kept; a symlink's target is written)."""
    conf = files.conf.resolve()
    text = conf.read_text(encoding="utf-8")
    if includes(text, files.ruleset):
        return False
    separator = "" if text.endswith("\n") or not text else "\n"
    write_atomic(conf, f"{text}{separator}\n{INCLUDE_COMMENT}\n{include_statement(files.ruleset)}\n")
    return True


def _enable_service(files: BootFiles, outcome: BootOutcome) -> str | None:
    enabled, why = service_enabled(files)
    if enabled:
        return f"{SERVICE} enabled"
    if enabled is None and shutil.which(files.systemctl) is None:
        outcome.warnings.append(
            f"{why}: enable {SERVICE} yourself so {files.conf} is loaded at boot (systemctl enable {SERVICE})"
        )
        return None
    try:
        done = _systemctl(files, "enable", SERVICE)
    except (OSError, subprocess.TimeoutExpired) as exc:
        outcome.warnings.append(f"could not enable {SERVICE}: {exc}: run `sudo systemctl enable {SERVICE}`")
        return None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        outcome.warnings.append(
            f"could not enable {SERVICE} ({message[0]}): the ruleset is not loaded at boot; "
            f"run `sudo systemctl enable {SERVICE}`"
        )
        return None
    return f"{SERVICE} enabled now (systemctl enable {SERVICE})"


def persist_for_boot(text: str, files: BootFiles | None = None) -> BootOutcome:
    """Install our copy, include it from the boot configuration, enable the service. Never raises: what
    could not be done is a warning naming the fix."""
    files = files or BootFiles()
    outcome = BootOutcome()
    installed = files.conf.is_file()
    if not files.persist_dir.is_dir():
        if not installed:
            outcome.warnings.append(
                f"{files.persist_dir} does not exist: the ruleset is loaded but not persisted for boot "
                f"(no {files.conf}: sudo apt install nftables)"
            )
            return outcome
        try:
            files.persist_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        except OSError as exc:
            outcome.warnings.append(f"could not create {files.persist_dir}: {exc}: the ruleset is not persisted")
            return outcome
    try:
        outcome.persisted = persist_ruleset(text, files.persist_dir, RULESET_NAME)
    except OSError as exc:
        outcome.warnings.append(f"could not persist the ruleset in {files.persist_dir}: {exc}")
        return outcome
    if not installed:
        outcome.warnings.append(
            f"no {files.conf}: nothing loads {outcome.persisted} at boot (sudo apt install nftables, then apply)"
        )
        return outcome
    if not files.persist_dir.resolve().is_relative_to((files.root / "etc").resolve()):
        # A copy kept elsewhere (a temporary folder) may be gone at boot, and a missing include fails the
        # whole boot configuration: the host's files are left alone.
        outcome.warnings.append(
            f"{files.persist_dir} is outside {files.root / 'etc'}: {files.conf} is left as it is and nothing "
            "loads the ruleset at boot"
        )
        return outcome
    try:
        added = _add_include(files)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        outcome.warnings.append(f"could not include {files.ruleset} from {files.conf}: {exc}: add it yourself")
        return outcome
    service = _enable_service(files, outcome) or f"{SERVICE} not enabled (see the warning)"
    added_now = " (include added now)" if added else ""
    outcome.how = f"at boot: {files.conf} includes {outcome.persisted}{added_now}; {service}"
    return outcome
