"""Rules that depend on the host (SPEC §4.7): PL1 (W1 under YOLO), H1, D11 (the bridge name, which
the nesting prefix lengthens, must fit a Linux interface name), and IN2 (global.incus names a remote the incus
CLI has).

H1 has two sources: the host's interfaces (`ip addr`, skipped with ANKLUME_SKIP_HOST_SUBNET_CHECK=1, which
tests set because the interfaces of the machine running them are not theirs to choose), and the bridges
Incus holds that are not this infra's (another infra's, SPEC §5.1): read from Incus, never skipped, since an
overlap there always fails at apply (dnsmasq cannot listen) and leaves half an infra behind."""

from __future__ import annotations

from typing import Any

from ..constants import nesting_prefix
from ..context import HostContext
from ..stability import used_bridges
from .common import Collector, Inventory, domain_networks, machines_of, mapping
from .incus import check_incus_remote

PRIVILEGED = "security.privileged"
IFNAME_MAX = 15  # Linux interface names: 16 bytes with the final NUL


def check_host(data: dict[str, Any], inv: Inventory, ctx: HostContext, out: Collector) -> None:
    _privileged_lxc(inv, ctx, out)
    _host_subnets(data, ctx, out)
    _incus_bridges(data, ctx, out)
    _bridge_names(data, inv, ctx, out)
    check_incus_remote(data, ctx, out)


def _bridge_names(data: dict[str, Any], inv: Inventory, ctx: HostContext, out: Collector) -> None:
    prefix = nesting_prefix(mapping(data.get("global")).get("nesting_prefix", True), ctx.absolute_level)
    for dname in inv.domains:
        bridge = f"{prefix}net-{dname}"
        if isinstance(dname, str) and len(bridge) > IFNAME_MAX:
            out.key_error(
                "D11",
                f"Domain '{dname}': its bridge '{bridge}' has {len(bridge)} characters and Linux allows "
                f"{IFNAME_MAX}; shorten the domain name to {IFNAME_MAX - len(prefix) - 4} characters or fewer",
                ("domains", dname),
            )


def _privileged_lxc(inv: Inventory, ctx: HostContext, out: Collector) -> None:
    # Unknown nesting (no vm_nested context file) is not enforced; only an explicit false is.
    if ctx.vm_nested is not False:
        return
    for _, mname, machine, path in machines_of(inv):
        if machine.get("type", "lxc") != "lxc":
            continue
        flag = mapping(machine.get("config")).get(PRIVILEGED)
        if not (flag is True or (isinstance(flag, str) and flag.lower() == "true")):
            continue
        where = path + ("config", PRIVILEGED)
        if ctx.yolo:
            out.warning(
                "W1",
                f"Machine '{mname}': YOLO: privileged LXC without a VM in the nesting chain (unsafe outside a lab)",
                where,
            )
        else:
            out.error(
                "PL1",
                f"Machine '{mname}': privileged LXC forbidden when vm_nested=false; use a VM or enable YOLO",
                where,
            )


def _host_subnets(data: dict[str, Any], ctx: HostContext, out: Collector) -> None:
    if ctx.skip_subnet_check or not ctx.host_networks:
        return
    enabled = mapping(data.get("global")).get("nesting_prefix", True)
    own_bridges = nesting_prefix(enabled, ctx.absolute_level) + "net-"
    host = [
        n
        for n in ctx.host_networks
        if n.interface != "lo" and not n.interface.startswith(own_bridges) and n.network.version == 4
    ]
    for dname, (subnet, network) in domain_networks(data).items():
        for interface in host:
            if network.overlaps(interface.network):
                where = ("domains", dname, "subnet_id") if subnet.explicit else ("domains", dname)
                out.error(
                    "H1",
                    f"SUBNET CONFLICT: Domain '{dname}' uses {subnet.cidr}, overlaps host interface "
                    f"{interface.interface}; change zone_base / base_subnet / subnet_id",
                    where,
                )


def _incus_bridges(data: dict[str, Any], ctx: HostContext, out: Collector) -> None:
    if ctx.allocation is None or not ctx.allocation.bridges:
        return
    prefix = nesting_prefix(mapping(data.get("global")).get("nesting_prefix", True), ctx.absolute_level)
    bridges = used_bridges(data, ctx.allocation, prefix)
    for dname, (subnet, network) in domain_networks(data).items():
        for bridge, taken in bridges.items():
            if network.overlaps(taken):
                where = ("domains", dname, "subnet_id") if subnet.explicit else ("domains", dname)
                out.error(
                    "H1",
                    f"SUBNET CONFLICT: Domain '{dname}' uses {subnet.cidr}, overlaps Incus bridge {bridge} "
                    f"({taken}), which this infra does not declare; change zone_base / base_subnet / subnet_id",
                    where,
                )
