"""A private root that looks like a stock Debian 12 host with nftables installed (its /etc/nftables.conf and
the service's unit, the service not enabled): what boot persistence, doctor and bootstrap write into in tests
(`ANKLUME_HOST_ROOT`), never this machine's /etc."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.incusd_helpers import ThrowawayIncus, incus_installed

# /etc/nftables.conf as the nftables package of Debian 12 ships it
STOCK_CONF = """\
#!/usr/sbin/nft -f

flush ruleset

table inet filter {
\tchain input {
\t\ttype filter hook input priority filter;
\t}
\tchain forward {
\t\ttype filter hook forward priority filter;
\t}
\tchain output {
\t\ttype filter hook output priority filter;
\t}
}
"""
UNIT = """\
[Unit]
Description=nftables
DefaultDependencies=no

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f /etc/nftables.conf

[Install]
WantedBy=sysinit.target
"""
WANTS = "etc/systemd/system/sysinit.target.wants/nftables.service"
OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'


def stock_debian_root(root: Path) -> Path:
    (root / "etc").mkdir(parents=True)
    (root / "etc/nftables.conf").write_text(STOCK_CONF)
    (root / "etc/nftables.conf").chmod(0o755)
    (root / "etc/os-release").write_text(OS_RELEASE)
    (root / "lib/systemd/system").mkdir(parents=True)
    (root / "lib/systemd/system/nftables.service").write_text(UNIT)
    return root


@pytest.fixture
def bare_daemon() -> Iterator[ThrowawayIncus]:
    """A daemon of its own, never initialised (as a plain package install leaves it): no pool, no root disk,
    no image."""
    if not incus_installed() or os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("needs incusd and root (CI=true: the Incus tests must run)")
        pytest.skip("needs incusd and root")
    daemon = ThrowawayIncus().start(initialise=False, with_busybox=False)
    yield daemon
    daemon.stop()
