"""The host's menu entries of the exported applications (issue 21): one `.desktop` file per application of each
machine, in the user's applications folder (`$XDG_DATA_HOME/applications`), written and removed by apply,
removed by flush.

Only this infra's entries are ever touched: a file is ours when its name starts `anklume.` and its
`X-Anklume-Infra` key holds this infra's `project_name` (the file name alone could not say: a sanitised infra
name may be shared). Values from infra.yml are data: every value is escaped as the Desktop Entry
Specification asks (strings, then the Exec quoting rule, `%` doubled so no field code is ever injected), and
control characters never reach a file (rules EA2, EA3 refuse them; `EntryRefused` here, in case).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import Failed
from ...psot.constants import TRUST_COLOURS
from ...psot.export_apps import ExportedApp, exported_apps
from ...psot.generate import write_atomic
from ...psot.model import Infra
from ..host import paths

ENTRY_PREFIX = "anklume."
GROUP = "[Desktop Entry]"
INFRA_FIELD = "X-Anklume-Infra"
DOMAIN_FIELD = "X-Anklume-Domain"
ENTRY_MODE = 0o644
# Exec's reserved characters: an argument holding one is quoted (Desktop Entry Specification, "The Exec key").
RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
QUOTED_ESCAPES = set('"`$\\')
UNSAFE_FILE_NAME = re.compile(r"[^A-Za-z0-9_-]")


class EntryRefused(Failed):
    """A value cannot be written into a desktop entry (a control character: validation refuses them first)."""


@dataclass
class EntriesResult:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why a file was left alone

    def summary(self) -> str:
        written, unchanged, removed = len(self.written), len(self.unchanged), len(self.removed)
        text = f"menu entries: {written} written, {unchanged} unchanged, {removed} removed"
        return text + "".join(f"; {why}" for why in self.skipped)


def _no_control(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise EntryRefused(f"a desktop entry cannot hold a control character: {value!r}")
    return value


def escape_string(value: str) -> str:
    """A `string`/`localestring` value: backslash escaped (control characters are refused)."""
    return _no_control(value).replace("\\", "\\\\")


def exec_argument(arg: str) -> str:
    """One Exec argument: quoted when it holds a reserved character (or is empty), `"`, `` ` ``, `$` and `\\`
    escaped inside the quotes, every `%` doubled (a literal percent sign, never a field code)."""
    arg = _no_control(arg).replace("%", "%%")
    if arg and not RESERVED & set(arg):
        return arg
    return '"' + "".join("\\" + c if c in QUOTED_ESCAPES else c for c in arg) + '"'


def exec_value(argv: Sequence[str]) -> str:
    """The Exec key's value: the arguments quoted, then escaped as a string (so a backslash inside quotes is
    written four times, as the specification says)."""
    return escape_string(" ".join(exec_argument(arg) for arg in argv))


def launcher_argv(infra_file: Path | None, incus_url: str | None) -> list[str]:
    """How a menu entry calls anklume-tui: the console script beside this Python when there is one, else the
    module; with the infra file and Incus apply used, so the entry reaches the same machine from anywhere."""
    script = Path(sys.executable).parent / "anklume-tui"
    argv = [str(script)] if os.access(script, os.X_OK) else [sys.executable, "-m", "anklume_tui"]
    argv += ["--batch", "launch"]
    if infra_file is not None:
        argv += ["--infra", str(Path(infra_file).absolute())]
    if incus_url:
        argv += ["--incus", incus_url]
    return argv


def file_name(infra_name: str, app: ExportedApp) -> str:
    """`anklume.<infra>.<domain>.<machine>.<app>.desktop`: domain, machine and application names hold no dot
    (their rules), so the parts never run into each other; the infra name is kept to [A-Za-z0-9_-]."""
    infra = UNSAFE_FILE_NAME.sub("_", infra_name) or "_"
    return f"{ENTRY_PREFIX}{infra}.{app.domain}.{app.machine}.{app.name}.desktop"


def icon_name(trust: str) -> str:
    return f"anklume-{trust}"


def render_entry(app: ExportedApp, infra_name: str, trust: str, launcher: Sequence[str], name: str) -> str:
    """The desktop entry of one application; `name` is what the menu shows (`[domain] label`)."""
    colour = TRUST_COLOURS.get(trust, TRUST_COLOURS["semi-trusted"])[1]
    keys = [
        ("Type", "Application"),
        ("Version", "1.4"),
        ("Name", escape_string(name)),
        ("Comment", escape_string(f"Runs in machine {app.machine} of domain {app.domain} ({trust})")),
        ("Icon", escape_string(app.icon or icon_name(trust))),
        ("Exec", exec_value([*launcher, app.machine, "--", *app.command])),
        ("Terminal", "false"),
        (INFRA_FIELD, escape_string(infra_name)),
        (DOMAIN_FIELD, escape_string(app.domain)),
        ("X-Anklume-Machine", escape_string(app.machine)),
        ("X-Anklume-App", escape_string(app.name)),
        ("X-Anklume-Trust", trust),
        ("X-Anklume-Colour", colour),
    ]
    return "\n".join([GROUP, *(f"{key}={value}" for key, value in keys)]) + "\n"


def icon_svg(trust: str) -> str:
    """A square of the trust level's console colour (SPEC §10.4's palette) with its glyph's initial."""
    colour = TRUST_COLOURS.get(trust, TRUST_COLOURS["semi-trusted"])[1]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect x="2" y="2" width="60" height="60" rx="10" fill="{colour}"/>'
        '<rect x="2" y="2" width="60" height="60" rx="10" fill="none" stroke="#ffffff" stroke-width="3"/>'
        f'<text x="32" y="42" font-size="28" text-anchor="middle" fill="#ffffff" font-family="sans-serif">'
        f"{trust[0].upper()}</text></svg>\n"
    )


def read_fields(path: Path) -> dict[str, str] | None:
    """The `X-Anklume-*` keys of a regular file of ours (None: not a regular file, or unreadable)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("X-Anklume-"):
            found[key] = re.sub(r"\\(.)", lambda m: {"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), value)
    return found


def _ours(folder: Path) -> list[tuple[Path, dict[str, str]]]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names:
        if name.startswith(ENTRY_PREFIX) and name.endswith(".desktop"):
            fields = read_fields(folder / name)
            if fields is not None and INFRA_FIELD in fields:  # a file without it is not one we wrote
                found.append((folder / name, fields))
    return found


def _write(path: Path, text: str, result: EntriesResult) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            result.unchanged.append(path)
            return
    except (OSError, UnicodeDecodeError):
        pass
    write_atomic(path, text, mode=ENTRY_MODE)
    result.written.append(path)


def sync_entries(
    infra: Infra,
    launcher: Sequence[str],
    limit: str | None = None,
    folder: Path | None = None,
    icons: Path | None = None,
) -> EntriesResult:
    """Write the entry of every application the enabled domains (or `limit`'s) export, and remove this infra's
    entries (of `limit`'s domain only, with one) that nothing exports any more. The trust levels' icons go to
    the hicolor theme. Writes are atomic; a symlink or another infra's file in the way is left alone."""
    folder = paths.applications_dir() if folder is None else folder
    icons = paths.app_icons_dir() if icons is None else icons
    result = EntriesResult()
    apps = exported_apps(infra, limit)
    trust = {d.name: d.effective_trust for d in infra.domains}
    shared = Counter((a.domain, a.name) for a in apps)  # one label from two machines: say which is which
    wanted: dict[Path, str] = {}
    for app in apps:
        label = f"[{app.domain}] {app.label}"
        if shared[(app.domain, app.name)] > 1:
            label += f" ({app.machine})"
        wanted[folder / file_name(infra.project_name, app)] = render_entry(
            app, infra.project_name, trust[app.domain], launcher, label
        )
    owners = dict(_ours(folder))
    if wanted:
        folder.mkdir(parents=True, exist_ok=True)
        icons.mkdir(parents=True, exist_ok=True)
        for level in sorted({trust[a.domain] for a in apps}):
            _write(icons / f"{icon_name(level)}.svg", icon_svg(level), EntriesResult())
    for path, text in wanted.items():
        if path.is_symlink() or (path.exists() and owners.get(path, {}).get(INFRA_FIELD) != infra.project_name):
            result.skipped.append(f"{path} is not this infra's entry: left alone")
            continue
        _write(path, text, result)
    for path, fields in owners.items():
        if path in wanted or fields.get(INFRA_FIELD) != infra.project_name:
            continue
        if limit is not None and fields.get(DOMAIN_FIELD) != limit:
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        result.removed.append(path)
    return result


def remove_entries(infra_name: str | None, folder: Path | None = None) -> list[Path]:
    """Delete the menu entries of infra `infra_name` (None: of every infra, `flush --all`)."""
    folder = paths.applications_dir() if folder is None else folder
    removed = []
    for path, fields in _ours(folder):
        if infra_name is None or fields.get(INFRA_FIELD) == infra_name:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            removed.append(path)
    return removed
