#!/bin/sh
# Install Incus (from bookworm-backports) and the tools the tests need, on Debian 12, as root.
# Idempotent: a re-run with everything present does no apt work.
set -eu

BACKPORTS_PKGS="incus-base incus-client"
# dnsmasq-base is only a Recommends of incus-base, but managed bridges need it for DHCP: check it too.
# gnupg: encrypted backups (backup --recipient) and their tests.
# xvfb, sway: the headless X server and Wayland compositor of the desktop tests (tests/display_helpers.py);
# xwayland, i3-wm, grim: the window trust colours' tests (sway's X server, the X11 window manager, sway's screenshots).
MAIN_PKGS="busybox-static debootstrap tmux nftables iproute2 dnsmasq-base gnupg desktop-file-utils xvfb sway"
MAIN_PKGS="$MAIN_PKGS xwayland i3-wm grim"
SOURCES=/etc/apt/sources.list.d/backports.sources

if [ "$(id -u)" -ne 0 ]; then
    echo "install-incus.sh: must run as root" >&2
    exit 1
fi

# The systemd of every unprivileged container takes inotify instances from one allowance per host user (root
# maps them all): Debian's 128 stops containers at start ("Too many open files") once a few dozen run, across
# the test daemons. Raised as Incus's production guide does; never lowered.
raise_sysctl() {
    current=$(sysctl -n "$1")
    [ "$current" -ge "$2" ] || sysctl -q -w "$1=$2"
}
raise_sysctl fs.inotify.max_user_instances 1024
raise_sysctl fs.inotify.max_user_watches 1048576
# Every runc start (Docker inside a container) makes a session keyring, counted against the same host user: with
# Debian's 200 keys for all containers, `docker run` in a node fails with "unable to create session key: disk
# quota exceeded" once ~40 test containers run. Raised as Incus's production guide does.
raise_sysctl kernel.keys.maxkeys 2000
raise_sysctl kernel.keys.maxbytes 2000000

missing_pkgs() {
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [ "$status" = "install ok installed" ] || printf '%s ' "$pkg"
    done
}

MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
WANTED=$(printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$MIRROR")

sources_changed=0
if [ ! -f "$SOURCES" ] || [ "$(cat "$SOURCES")" != "$WANTED" ]; then
    printf '%s\n' "$WANTED" > "$SOURCES.tmp"
    mv "$SOURCES.tmp" "$SOURCES"
    sources_changed=1
fi

# shellcheck disable=SC2086
missing_bp=$(missing_pkgs $BACKPORTS_PKGS)
# shellcheck disable=SC2086
missing_main=$(missing_pkgs $MAIN_PKGS)

if [ -z "$missing_bp" ] && [ -z "$missing_main" ] && [ "$sources_changed" -eq 0 ]; then
    echo "install-incus.sh: everything already installed"
else
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    if [ -n "$missing_bp" ]; then
        # shellcheck disable=SC2086
        apt-get install -y -t bookworm-backports $missing_bp
    fi
    if [ -n "$missing_main" ]; then
        # shellcheck disable=SC2086
        apt-get install -y $missing_main
    fi
fi

test -x /usr/libexec/incus/incusd || { echo "install-incus.sh: incusd missing after install" >&2; exit 1; }
/usr/libexec/incus/incusd --version
