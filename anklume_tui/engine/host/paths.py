"""Where anklume-tui keeps things on the host (CLI.md "Where things are found")."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value and os.path.isabs(value) else Path.home() / fallback


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "anklume"


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "anklume"


def context_dir() -> Path:
    return Path(os.environ.get("ANKLUME_CONTEXT_DIR") or "/etc/anklume")


def user_themes_dir() -> Path:
    return config_dir() / "themes"


def user_keymap_file() -> Path:
    """The user's key remappings (README, "In the TUI")."""
    return config_dir() / "keymap.toml"


def bundled_example() -> Path:
    return Path(__file__).resolve().parents[2] / "bundled" / "infra.yml"


def examples_dir() -> Path:
    """The shipped examples (`examples/` beside `roles/`), offered by the TUI's first-run guide."""
    return shipped_ansible_dir() / "examples"


def allocations_dir(state: Path | None = None) -> Path:
    """Each infra's applied subnets and addresses, one file per project_name (SPEC §5.1 Stability)."""
    return (state_dir() if state is None else Path(state)) / "allocations"


def clipboard_dir() -> Path:
    """The clipboard between domains (issue 21): the batch verbs' host-held buffer and the log of transfers."""
    return state_dir() / "clipboard"


def tmux_last_domain_file() -> Path:
    """The domain whose console pane had focus last; the console's clipboard purge compares against it."""
    return state_dir() / "tmux-last-domain"


def isolation_ruleset_file() -> Path:
    """The host isolation ruleset last loaded (SPEC §9.1)."""
    return state_dir() / "nftables-isolation.nft"


def provision_log_file() -> Path:
    """Ansible's full output of the last provisioning run."""
    return state_dir() / "provision-last.log"


def provision_report_file() -> Path:
    """The last provisioning run's outcome as JSON (its failed tasks): what `explain LAST` reads."""
    return state_dir() / "provision-last.json"


def assistant_config_file() -> Path:
    """The local assistant's backend (`explain`): none until the user writes this file."""
    return config_dir() / "assistant.toml"


def assistant_dir() -> Path:
    """The assistant's experience library and its log of fix rounds."""
    return state_dir() / "assistant"


def shipped_ansible_dir() -> Path:
    """Where `playbooks/` and `roles/` ship: the top of the checkout anklume-tui is installed from."""
    return Path(__file__).resolve().parents[3]


def role_folders(tree: Path) -> list[Path]:
    """Where roles are looked up, in order (SPEC §8.5): the user's `roles_custom/` beside the generated tree,
    the shipped `roles/`, then `roles_vendor/` (Galaxy)."""
    return [tree / "roles_custom", shipped_ansible_dir() / "roles", tree / "roles_vendor"]


def ai_access_holder_file() -> Path:
    """The domain that holds exclusive AI access (SPEC §10.5)."""
    return state_dir() / "ai-access-current"


def ai_switch_log_file() -> Path:
    return state_dir() / "ai-switch.log"


def host_root() -> Path:
    """The root of the system files apply arranges for boot (`ANKLUME_HOST_ROOT`, default /): the nftables
    configuration and the systemd units. Tests point it at a private folder."""
    value = os.environ.get("ANKLUME_HOST_ROOT")
    return Path(value) if value and os.path.isabs(value) else Path("/")


def nft_persist_dir() -> Path:
    """Where the isolation ruleset is installed for boot (`ANKLUME_NFT_PERSIST_DIR`, default
    `<host root>/etc/nftables.d`)."""
    return Path(os.environ.get("ANKLUME_NFT_PERSIST_DIR") or host_root() / "etc/nftables.d")


def nftables_conf_file() -> Path:
    """What Debian's nftables.service loads at boot (`nft -f /etc/nftables.conf`)."""
    return host_root() / "etc/nftables.conf"


def telemetry_dir() -> Path:
    """Telemetry is on while `enabled` exists in here; events go to `usage.jsonl` (SPEC §10.7)."""
    return state_dir() / "telemetry"


def telemetry_enabled_file() -> Path:
    return telemetry_dir() / "enabled"


def telemetry_log_file() -> Path:
    return telemetry_dir() / "usage.jsonl"


def subuid_file() -> Path:
    return host_root() / "etc/subuid"


def subgid_file() -> Path:
    return host_root() / "etc/subgid"


def kernel_modules_dir() -> Path:
    """Loaded kernel modules show up as folders here (`br_netfilter`)."""
    return Path("/sys/module")


def proc_dir() -> Path:
    return Path("/proc")


def backups_dir() -> Path:
    """Where `backup` writes its runs unless told another folder (`--dir`)."""
    return state_dir() / "backups"


def data_home() -> Path:
    """`$XDG_DATA_HOME` (default ~/.local/share): where the exported applications' menu entries and icons go."""
    return _xdg("XDG_DATA_HOME", ".local/share")


def applications_dir() -> Path:
    """The user's desktop entries (the XDG menu reads them): apply writes one per exported application."""
    return data_home() / "applications"


def app_icons_dir() -> Path:
    """The user's scalable icons of the hicolor theme: the trust levels' icons of the exported applications."""
    return data_home() / "icons/hicolor/scalable/apps"


def window_manager_config_file(wm: str) -> Path:
    """Where `window-colours --write` puts a window manager's trust-colour fragment (issue 21):
    $XDG_CONFIG_HOME/<wm>/config.d/anklume, which the user's config includes."""
    return _xdg("XDG_CONFIG_HOME", ".config") / wm / "config.d" / "anklume"
