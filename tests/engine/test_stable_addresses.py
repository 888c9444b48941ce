"""Changing an applied infra (SPEC §5.1 Stability), on the throwaway daemon: a domain added before an existing one
leaves it where it was, and so does removing a domain or a machine declared before others; a swap, a rotation and
a single change of addresses apply; after each, the incus CLI shows every running machine on its declared address
and a second apply changes nothing. A failed apply tried again takes no second pre-apply snapshot."""

from __future__ import annotations

import asyncio
import json

from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.reconcile.addresses import address_steps
from anklume_tui.engine.reconcile.allocation import gather_allocation
from anklume_tui.engine.reconcile.apply import ApplyResult, apply
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from tests.engine.apply_helpers import batch, instances, plan_json
from tests.engine.fault_helpers import inject
from tests.wait_helpers import wait_until

DEV = """\
  dev:
    trust_level: trusted
    machines:
      dev-ci: {}
      dev-db: {}
"""
HEAD = "project_name: stable\nglobal:\n  addressing: {}\n  default_os_image: busybox\ndomains:\n"
CI = """\
  ci:
    trust_level: trusted
    machines:
      ci-runner: {}
"""


def four(a: int, b: int, c: int, d: int) -> str:
    machines = "".join(f"      m{n}:\n        ip: 10.110.0.{ip}\n" for n, ip in zip("abcd", (a, b, c, d), strict=True))
    return f"{HEAD}  lab:\n    trust_level: trusted\n    machines:\n{machines}"


def live_addresses(incusd) -> dict[str, str]:
    """Each running instance's IPv4 address on eth0, as the incus CLI shows it."""
    found = {}
    for inst in incusd.incus_json("list", "--all-projects"):
        eth0 = ((inst.get("state") or {}).get("network") or {}).get("eth0") or {}
        inet = [a["address"] for a in eth0.get("addresses", []) if a["family"] == "inet"]
        if inst["status"] == "Running" and inet:
            found[inst["name"]] = inet[0]
    return found


def declared(incusd) -> dict[str, str]:
    """Each running instance's eth0 address as its configuration declares it."""
    found = instances(incusd).items()
    return {name: i["devices"]["eth0"]["ipv4.address"] for (_, name), i in found if i["status"] == "Running"}


def applied_and_converged(incusd, tmp_path, infra, *args: str) -> None:
    result = batch(incusd, tmp_path, "apply", infra, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    wanted = declared(incusd)
    wait_until(
        lambda: live_addresses(incusd) == wanted, timeout=60, what=lambda: f"{live_addresses(incusd)} != {wanted}"
    )
    assert plan_json(incusd, tmp_path, infra)["actions"] == []


def test_address_steps_go_through_a_free_address_only_for_a_cycle():
    assert address_steps({"a": "10.0.0.1"}, {"a": "10.0.0.50"}) == [("a", "10.0.0.50")]
    swap = address_steps({"a": "10.0.0.1", "b": "10.0.0.2"}, {"a": "10.0.0.2", "b": "10.0.0.1"})
    assert swap == [("a", "10.0.0.99"), ("b", "10.0.0.1"), ("a", "10.0.0.2")]
    current = {"a": "10.0.0.1", "b": "10.0.0.2", "c": "10.0.0.3", "d": "10.0.0.99"}
    rotation = address_steps(current, {"a": "10.0.0.2", "b": "10.0.0.3", "c": "10.0.0.1"})
    assert rotation == [("a", "10.0.0.98"), ("c", "10.0.0.1"), ("b", "10.0.0.3"), ("a", "10.0.0.2")]
    # a chain moves in order, no temporary address
    chain = address_steps({"a": "10.0.0.1", "b": "10.0.0.2"}, {"a": "10.0.0.2", "b": "10.0.0.3"})
    assert chain == [("b", "10.0.0.3"), ("a", "10.0.0.2")]


def test_a_domain_added_before_an_applied_one_leaves_its_bridge_and_machines_alone(incusd, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(HEAD + DEV)
    applied_and_converged(incusd, tmp_path, infra)
    before = declared(incusd)
    assert before == {"dev-ci": "10.110.0.1", "dev-db": "10.110.0.2"}
    infra.write_text(HEAD + CI + DEV)  # `ci` sorts before `dev`: v1 would give it dev's subnet
    applied_and_converged(incusd, tmp_path, infra)
    assert incusd.query("/1.0/networks/net-dev")["config"]["ipv4.address"] == "10.110.0.254/24"
    assert incusd.query("/1.0/networks/net-ci")["config"]["ipv4.address"] == "10.110.1.254/24"
    assert declared(incusd) == {**before, "ci-runner": "10.110.1.1"}
    record = json.loads((tmp_path / "anklume" / "allocations" / "stable.json").read_text())
    assert record["subnets"] == {"ci": "10.110.1.254/24", "dev": "10.110.0.254/24"}
    # Removing what came first (dev-ci, declared before dev-db; the domain ci, sorting before dev) renumbers
    # nothing: v1 would give dev-db .1 and, with ci gone, keep dev where it is only by luck of the order.
    infra.write_text(HEAD + DEV.replace("      dev-ci: {}\n", ""))
    result = batch(incusd, tmp_path, "apply", infra)
    assert result.returncode == 0, result.stdout + result.stderr
    assert incusd.query("/1.0/networks/net-dev")["config"]["ipv4.address"] == "10.110.0.254/24"
    assert declared(incusd)["dev-db"] == "10.110.0.2"
    wait_until(lambda: live_addresses(incusd).get("dev-db") == "10.110.0.2", timeout=60, what="dev-db on .2")
    assert plan_json(incusd, tmp_path, infra)["actions"] == []


def test_a_swap_a_rotation_and_a_single_change_apply(incusd, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(four(1, 2, 3, 4))
    applied_and_converged(incusd, tmp_path, infra)
    infra.write_text(four(2, 1, 3, 4))  # swap a and b
    applied_and_converged(incusd, tmp_path, infra)
    infra.write_text(four(1, 3, 2, 4))  # rotate a → b's, b → c's, c → a's
    applied_and_converged(incusd, tmp_path, infra)
    infra.write_text(four(1, 3, 2, 50))  # one change to a free address
    applied_and_converged(incusd, tmp_path, infra)
    assert declared(incusd) == {"ma": "10.110.0.1", "mb": "10.110.0.3", "mc": "10.110.0.2", "md": "10.110.0.50"}


def test_a_failed_apply_tried_again_takes_no_second_pre_apply_snapshot(incusd, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(four(1, 2, 3, 4))
    applied_and_converged(incusd, tmp_path, infra)
    # an instance the infra does not declare holds .60: moving md there fails, every time
    incusd.incus("init", "busybox", "squatter", "--project=lab", "-d", "eth0,ipv4.address=10.110.0.60")
    infra.write_text(four(1, 2, 3, 60))

    def pre_apply_snapshots() -> list[str]:
        snaps = incusd.incus_json("snapshot", "list", "md", "--project=lab")
        return [s["name"] for s in snaps if s["name"].startswith("pre-apply-")]

    for _ in range(2):
        result = batch(incusd, tmp_path, "apply", infra)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "already defined on another NIC" in result.stdout
        assert len(pre_apply_snapshots()) == 1
    infra.write_text(four(1, 2, 3, 61))  # another change: a snapshot of its own
    applied_and_converged(incusd, tmp_path, infra)
    assert len(pre_apply_snapshots()) == 2


def test_a_zone_change_is_w9_and_moves_only_with_apply_renumber(incusd, tmp_path, monkeypatch):
    infra = tmp_path / "infra.yml"
    infra.write_text(HEAD + DEV)
    applied_and_converged(incusd, tmp_path, infra)
    assert declared(incusd) == {"dev-ci": "10.110.0.1", "dev-db": "10.110.0.2"}
    before = (incusd.query("/1.0/networks/net-dev")["config"], declared(incusd), live_addresses(incusd))

    infra.write_text(HEAD + DEV.replace("trusted", "semi-trusted"))  # the domain changes zone: 10.110 → 10.120
    checked = batch(incusd, tmp_path, "validate", infra)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    w9 = f"{infra}:6:3: warning[W9]: domain 'dev': applied subnet 10.110.0.0/24 would move to 10.120.0.0/24"
    assert w9 in checked.stdout
    plan = plan_json(incusd, tmp_path, infra)
    assert sorted((a["op"], a["kind"], a["name"]) for a in plan["actions"]) == [
        ("renumber", "instance", "dev-ci"),
        ("renumber", "instance", "dev-db"),
        ("renumber", "network", "net-dev"),
    ]

    # Without --renumber nothing moves, and apply says how to proceed.
    refused = batch(incusd, tmp_path, "apply", infra)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "apply --renumber" in refused.stdout
    assert (incusd.query("/1.0/networks/net-dev")["config"], declared(incusd), live_addresses(incusd)) == before

    # Cut short once the bridge moved (dev-db's update refused): the domain is in its new subnet only, never
    # half in each; dev-db, left without a static address, is given one by the next apply.
    interrupted = asyncio.run(renumber_with_a_refused_update(incusd, tmp_path, infra, monkeypatch))
    assert [o.action.name for o in interrupted.of("failed")] == ["dev-db"]
    assert incusd.query("/1.0/networks/net-dev")["config"]["ipv4.address"] == "10.120.0.254/24"
    eth0s = {n: i["devices"]["eth0"].get("ipv4.address") for (_, n), i in instances(incusd).items()}
    assert eth0s == {"dev-ci": "10.120.0.1", "dev-db": None}

    applied_and_converged(incusd, tmp_path, infra, "--renumber")
    assert incusd.query("/1.0/networks/net-dev")["config"]["ipv4.address"] == "10.120.0.254/24"
    assert declared(incusd) == live_addresses(incusd) == {"dev-ci": "10.120.0.1", "dev-db": "10.120.0.2"}


async def renumber_with_a_refused_update(incusd, tmp_path, infra, monkeypatch) -> ApplyResult:
    """apply --renumber in this process, dev-db's updates refused once it let go of its old address."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    result = run_psot(infra, HostContext(allocation=gather_allocation(incusd.url)))
    assert result.infra is not None and [r.domain for r in result.infra.renumbers] == ["dev"]
    async with IncusClient(incusd.url) as client:
        fault = inject(client, "/1.0/instances/dev-db", failures=9, error="injected: update refused", skip=1)
        done = await apply(client, result.infra, renumber=True, state_dir=tmp_path / "anklume")
    assert fault.seen >= 2
    return done
