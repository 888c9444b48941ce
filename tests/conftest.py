"""Fixtures for tests against a throwaway real Incus (tests/incusd_helpers.py), shared by every test folder.

Never the user's daemon: each session starts its own in a private namespace.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pylxd
import pytest

from anklume_tui.engine.incus.client import IncusClient
from tests.cluster_helpers import ThreeMemberCluster
from tests.image_helpers import ImageFiles, build_debian_image
from tests.incusd_helpers import ThrowawayIncus, incus_installed
from tests.wait_helpers import wait_until

TIMINGS: dict[str, float] = {}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the Incus tests must run)")
    pytest.skip(reason)


# The files that provision whole labs (minutes each). They are handed to the test processes first: with whole files
# per process (--dist=loadfile, in collection order), one of them starting last would run alone at the end.
LONGEST_FIRST = (
    "tests/provision/test_ai_examples_apply_and_provision.py",
    "tests/provision/test_service_examples_apply_and_provision.py",
    "tests/provision/test_examples_apply_and_provision.py",
    "tests/provision/test_shipped_roles_converge.py",
    "tests/provision/test_ai_roles.py",
    "tests/docs/test_guide_commands.py",
    "tests/provision/test_firewall_router_packets.py",
    "tests/provision/test_tor_gateway_confines_clients.py",
    "tests/provision/test_print_server_prints_across_domains.py",
)


def _longest_first(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the daemon carries the `incus` marker (`-m "not incus"` skips them); the longest
    files come first, each file's tests in their order (a stable sort)."""
    for item in items:
        if {"incus_daemon", "incus_cluster_session"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.incus)
    items.sort(key=_longest_first)


def _host_table() -> str:
    found = subprocess.run(["nft", "list", "table", "inet", "anklume"], capture_output=True, text=True)
    return found.stdout if found.returncode == 0 else ""


def _host_boot_files() -> dict[str, object]:
    """What apply arranges for boot on a real host: /etc/nftables.conf, /etc/nftables.d, the service link."""
    conf = Path("/etc/nftables.conf")
    return {
        "/etc/nftables.conf": conf.read_bytes() if conf.is_file() else None,
        "/etc/nftables.d": sorted(p.name for p in Path("/etc/nftables.d").glob("*")),
        "nftables.service enabled": Path("/etc/systemd/system/sysinit.target.wants/nftables.service").exists(),
    }


@pytest.fixture(scope="session", autouse=True)
def nft_away_from_the_host() -> Iterator[None]:
    """apply loads the isolation ruleset: in tests, nft runs in a network namespace of the session's own
    (tests that want the daemon's namespace say so) and the ruleset is persisted in a temp dir, never /etc;
    its boot loading (nftables.conf, systemd units) is arranged in an empty private root, never the host's."""
    if os.geteuid() != 0:
        yield
        return
    before, boot_before = _host_table(), _host_boot_files()
    holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"])
    netns = f"/proc/{holder.pid}/ns/net"
    host_netns = os.readlink("/proc/self/ns/net")
    wait_until(lambda: os.readlink(netns) != host_netns, 10, "unshare --net to make its namespace", 0.01)
    persist = tempfile.mkdtemp(prefix="anklume-nft-persist-")
    root = tempfile.mkdtemp(prefix="anklume-host-root-")
    saved = {k: os.environ.get(k) for k in ("ANKLUME_NFT_NETNS", "ANKLUME_NFT_PERSIST_DIR", "ANKLUME_HOST_ROOT")}
    os.environ["ANKLUME_NFT_NETNS"] = netns
    os.environ["ANKLUME_NFT_PERSIST_DIR"] = persist
    os.environ["ANKLUME_HOST_ROOT"] = root
    try:
        yield
    finally:
        holder.kill()
        holder.wait()
        shutil.rmtree(persist, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    # A test that loaded a ruleset on the host would show here: a leak, not something to clean quietly.
    assert _host_table() == before, "a test loaded `table inet anklume` into the host's nftables"
    assert _host_boot_files() == boot_before, "a test arranged the isolation ruleset's boot loading on the host"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def incus_daemon() -> Iterator[ThrowawayIncus]:
    """One private incusd for the whole session, with the busybox image as alias `busybox` in `default`."""
    if not incus_installed():
        _unavailable("incusd is not installed (scripts/install-incus.sh)")
    if os.geteuid() != 0:
        _unavailable("the throwaway Incus daemon needs root")
    daemon = ThrowawayIncus().start()
    TIMINGS.update({f"daemon {k}": v for k, v in daemon.timings.items()})
    yield daemon
    t0 = time.monotonic()
    daemon.stop()
    TIMINGS["daemon stop"] = time.monotonic() - t0


@pytest.fixture(scope="session")
def incus_cluster_session() -> Iterator[ThreeMemberCluster]:
    """A real three-member Incus cluster (tests/cluster_helpers.py), busybox imported, for the whole session."""
    if not incus_installed():
        _unavailable("incusd is not installed (scripts/install-incus.sh)")
    if os.geteuid() != 0:
        _unavailable("the throwaway Incus cluster needs root")
    cluster = ThreeMemberCluster().start()
    TIMINGS.update({f"cluster {k}": v for k, v in cluster.timings.items()})
    yield cluster
    t0 = time.monotonic()
    cluster.stop()
    TIMINGS["cluster stop"] = time.monotonic() - t0


@pytest.fixture
def incus_cluster(incus_cluster_session: ThreeMemberCluster) -> Iterator[ThreeMemberCluster]:
    """The session's cluster, put back afterwards to just-joined (every member running, only the defaults)."""
    yield incus_cluster_session
    for name in sorted(incus_cluster_session.stopped):
        incus_cluster_session.resume_member(name)
    incus_cluster_session.reset()


@pytest.fixture
def incusd(incus_daemon: ThrowawayIncus) -> Iterator[ThrowawayIncus]:
    """The session daemon, put back afterwards to its starting state (only the default project,
    profile, pool and images): whatever the test created is deleted."""
    yield incus_daemon
    incus_daemon.reset()


@pytest.fixture
async def incus_client(incusd: ThrowawayIncus) -> AsyncIterator[IncusClient]:
    """Our client on the throwaway daemon's socket (with the clean state of `incusd`)."""
    async with IncusClient(incusd.url) as client:
        yield client


@pytest.fixture
def pylxd_reader(incusd: ThrowawayIncus) -> Callable[..., pylxd.Client]:
    """An independent reader: `pylxd_reader(project="default")` gives a pylxd client on the daemon.
    pylxd's recursion=0 listings are wrong outside `default` (names get `?project=`): use get()."""
    return lambda project="default": pylxd.Client(endpoint=incusd.socket_path, project=project)


@pytest.fixture(scope="session")
def debian_image(incus_daemon: ThrowawayIncus) -> ImageFiles:
    """Debian + python3 (built once, then cached), imported into `default` as alias `debian`.
    Elsewhere: `incus_daemon.import_image(project, "debian", image=debian_image)`."""
    t0 = time.monotonic()
    image = build_debian_image()
    TIMINGS["debian image build (or cache hit)"] = time.monotonic() - t0
    t0 = time.monotonic()
    incus_daemon.import_image("default", "debian", image=image)
    TIMINGS["debian image import"] = time.monotonic() - t0
    return image


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("throwaway Incus timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.2f} s")
