"""Rules on services between domains (issue 19): SV1–SV7 (errors) and W12 (warning).

`machines.<m>.services` offers a TCP port or a unix socket; `consumes` (domain or machine level) is the grant.
"""

from __future__ import annotations

import re
from typing import Any

from ..addressing import is_zone_mode
from ..constants import DEFAULT_SERVICES_BASE, effective_trust
from ..services import default_consumer_socket, parse_entry, split_ref
from .common import Collector, Inventory, Path, is_absolute, is_int, is_name, machines_of, mapping, name_hint, show

PROTOCOL_RE = re.compile(r"[a-z][a-z0-9+.-]*")
MODE_RE = re.compile(r"0?[0-7]{3}")
SOCKET_MAX_BYTES = 100  # a unix socket path holds 108 bytes with its NUL: leave room
HOST_SOCKET_MAX_BYTES = 107
LONGEST_PREFIX = "000-"  # a nesting prefix (SPEC §5.6): the host's level is not known to these rules
ENTRY_KEYS = ("socket", "uid", "gid", "mode")
LOW_TRUST = ("untrusted", "disposable")


def check_services(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    offers = _offers(inv, out)
    _relay_paths(data, offers, inv, out)
    legacy = not is_zone_mode(data)
    for dname, domain in inv.domains.items():
        if "consumes" in domain:
            consumers = [m for m in inv.members.get(dname, []) if inv.machines.get(m, (None,))[0] == dname]
            _consumes(domain["consumes"], ("domains", dname, "consumes"), None, consumers, offers, inv, legacy, out)
    for _dname, mname, machine, path in machines_of(inv):
        if "consumes" in machine and inv.machine_path(mname) == path:
            _consumes(machine["consumes"], path + ("consumes",), mname, [mname], offers, inv, legacy, out)
    _socket_paths(inv, offers, out)


def socket_problem(value: object) -> str | None:
    """Why `value` is not a usable unix socket path inside a machine, or None."""
    if not isinstance(value, str) or not value.startswith("/"):
        return "must be an absolute path"
    if ".." in value.split("/"):
        return "must not contain '..'"
    if len(value.encode()) > SOCKET_MAX_BYTES:
        return f"is longer than {SOCKET_MAX_BYTES} bytes (the unix socket limit)"
    return None


def _relay_paths(
    data: dict[str, Any], offers: dict[tuple[Any, Any], dict[str, Any]], inv: Inventory, out: Collector
) -> None:
    """SV2: the host socket a relay listens on fits the unix limit, whatever nesting prefix this host gives."""
    base = mapping(data.get("global")).get("services_base") or DEFAULT_SERVICES_BASE
    if not is_absolute(base):
        return  # B1 says so
    for (mname, sname), body in offers.items():
        if body.get("socket") is None:
            continue
        dname = inv.machines[mname][0]
        path = f"{base}/{LONGEST_PREFIX}{dname}/{LONGEST_PREFIX}{mname}/{sname}.sock"
        if len(path.encode()) > HOST_SOCKET_MAX_BYTES:
            out.key_error(
                "SV2",
                f"Machine '{mname}': services.{sname}: its relay socket on the host ({path}) would pass the unix "
                f"limit of {HOST_SOCKET_MAX_BYTES} bytes; shorten global.services_base or the service's name",
                inv.machine_path(mname) + ("services", sname),
            )


def _offers(inv: Inventory, out: Collector) -> dict[tuple[Any, Any], dict[str, Any]]:
    """SV1, SV2, SV7 (a VM offering a socket); (machine, service) -> its valid body."""
    offers: dict[tuple[Any, Any], dict[str, Any]] = {}
    for _dname, mname, machine, path in machines_of(inv):
        services = machine.get("services")
        if services is None or inv.machine_path(mname) != path:
            continue
        spath = path + ("services",)
        label = f"Machine '{mname}': services"
        if not isinstance(services, dict):
            out.error("SV1", f"{label} must be a mapping of service names (got {show(services)})", spath)
            continue
        for sname, body in services.items():
            if not is_name(sname):
                out.key_error(
                    "SV1",
                    f"{label}.{sname}: invalid name (lowercase letters, digits, inner hyphens){name_hint(sname)}",
                    spath + (sname,),
                )
            if not isinstance(body, dict):
                out.error(
                    "SV1",
                    f"{label}.{sname} must be a mapping with a port or a socket (got {show(body)})",
                    spath + (sname,),
                )
                continue
            if _service_ok(f"{label}.{sname}", body, spath + (sname,), machine, out):
                offers[(mname, sname)] = body
    return offers


def _service_ok(label: str, body: dict[str, Any], path: Path, machine: dict[str, Any], out: Collector) -> bool:
    port, socket = body.get("port"), body.get("socket")
    ok = True
    if (port is None) == (socket is None):
        out.error("SV2", f"{label}: give exactly one of 'port' (TCP) and 'socket' (unix socket)", path)
        ok = False
    if port is not None and not (is_int(port) and 1 <= port <= 65535):
        out.error("SV2", f"{label}: port must be 1-65535 (got {show(port)})", path + ("port",))
        ok = False
    if socket is not None and (problem := socket_problem(socket)) is not None:
        out.error("SV2", f"{label}: socket {problem} (got {show(socket)})", path + ("socket",))
        ok = False
    protocol = body.get("protocol")
    if protocol is not None and not (isinstance(protocol, str) and PROTOCOL_RE.fullmatch(protocol)):
        out.error(
            "SV2",
            f"{label}: protocol must be a lowercase label like 'mcp' or 'http' (got {show(protocol)})",
            path + ("protocol",),
        )
        ok = False
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        out.error("SV2", f"{label}: description must be a string (got {show(description)})", path + ("description",))
        ok = False
    if socket is not None and machine.get("type") == "vm":
        out.error(
            "SV7",
            f"{label}: a VM cannot offer a unix socket (Incus relays unix sockets for containers only); "
            "offer a TCP port instead",
            path + ("socket",),
        )
        ok = False
    return ok


def _consumes(
    entries: object,
    path: Path,
    machine: Any,
    consumers: list[Any],
    offers: dict[tuple[Any, Any], dict[str, Any]],
    inv: Inventory,
    legacy: bool,
    out: Collector,
) -> None:
    """SV3–SV7 for one `consumes` list; `machine` is None at domain level."""
    where = f"Machine '{machine}'" if machine is not None else f"Domain '{path[1]}'"
    if not isinstance(entries, list):
        out.error("SV3", f"{where}: consumes must be a list of '<machine>/<service>' (got {show(entries)})", path)
        return
    for i, entry in enumerate(entries):
        epath = path + (i,)
        ref = entry.get("service") if isinstance(entry, dict) else entry
        if not (
            isinstance(entry, (str, dict)) and isinstance(ref, str) and ref.count("/") == 1 and all(split_ref(ref))
        ):
            out.error(
                "SV3",
                f"{where}: consumes[{i}] must be '<machine>/<service>' or a mapping with 'service' (got {show(entry)})",
                epath + ("service",) if isinstance(entry, dict) else epath,
            )
            continue
        provider, service = split_ref(ref)
        label = f"{where}: consumes '{ref}'"
        if provider not in inv.machines:
            out.error("SV4", f"{label}: no machine '{provider}'", epath)
            continue
        if (provider, service) not in offers:
            offered = ", ".join(sorted(str(s) for p, s in offers if p == provider)) or "nothing"
            out.error("SV4", f"{label}: '{provider}' offers no service '{service}' (it offers: {offered})", epath)
            continue
        if machine == provider:
            out.error("SV5", f"{label}: a machine cannot consume its own service", epath)
            continue
        body = offers[(provider, service)]
        options = parse_entry(entry)[1]
        if body.get("port") is not None:
            given = [k for k in ENTRY_KEYS if k in options]
            if given:
                out.error(
                    "SV3",
                    f"{label}: '{given[0]}' applies to unix socket services only; '{service}' is a TCP port",
                    epath + (given[0],),
                )
            _static_ips(label, provider, machine, epath, inv, legacy, out)
        else:
            _socket_options(label, options, epath, out)
            vms = [c for c in consumers if c != provider and inv.machines[c][1].get("type") == "vm"]
            if vms:
                out.error(
                    "SV7",
                    f"{label}: '{vms[0]}' is a VM; Incus relays unix sockets to containers only "
                    "(offer a TCP port for VMs)",
                    epath,
                )


def _static_ips(
    label: str, provider: Any, machine: Any, path: Path, inv: Inventory, legacy: bool, out: Collector
) -> None:
    """SV6: the policy a TCP service needs names machines by IP; legacy DHCP machines have none."""
    if not legacy:
        return
    for name in (provider, machine):
        if name is not None and inv.machines[name][1].get("ip") is None:
            out.error(
                "SV6",
                f"{label}: machine '{name}' has no static IP (legacy addressing): the rule that lets the "
                "service through cannot be written; give it an 'ip'",
                path,
            )


def _socket_options(label: str, options: dict[str, Any], path: Path, out: Collector) -> None:
    if "socket" in options and (problem := socket_problem(options["socket"])) is not None:
        out.error("SV3", f"{label}: socket {problem} (got {show(options['socket'])})", path + ("socket",))
    for key in ("uid", "gid"):
        value = options.get(key)
        if key in options and not (is_int(value) and isinstance(value, int) and value >= 0):
            out.error("SV3", f"{label}: {key} must be a number ≥ 0 (got {show(value)})", path + (key,))
    mode = options.get("mode")
    if "mode" in options and not (isinstance(mode, str) and MODE_RE.fullmatch(mode)):
        out.error("SV3", f'{label}: mode must be an octal string like "0660" (got {show(mode)})', path + ("mode",))


def _socket_paths(inv: Inventory, offers: dict[tuple[Any, Any], dict[str, Any]], out: Collector) -> None:
    """SV7: two consumed sockets at one path in one machine (a machine entry overrides its domain's)."""
    for dname, mname, machine, path in machines_of(inv):
        if inv.machine_path(mname) != path:
            continue
        chosen: dict[tuple[str, str], tuple[str, Path]] = {}
        levels = (
            (mapping(inv.domains.get(dname)).get("consumes"), ("domains", dname, "consumes")),
            (machine.get("consumes"), path + ("consumes",)),
        )
        for entries, lpath in levels:
            for i, entry in enumerate(entries if isinstance(entries, list) else []):
                ref, options = parse_entry(entry) if isinstance(entry, (str, dict)) else ("", {})
                key = split_ref(ref)
                body = offers.get(key)
                if body is None or body.get("socket") is None or key[0] == mname:
                    continue
                socket = options.get("socket") or default_consumer_socket(*key)
                if "socket" not in options and len(socket.encode()) > SOCKET_MAX_BYTES:
                    out.error(
                        "SV3",
                        f"Machine '{mname}': consumes '{'/'.join(key)}': its default path {socket} is longer than "
                        f"{SOCKET_MAX_BYTES} bytes; give it a shorter 'socket:'",
                        lpath + (i,),
                    )
                chosen[key] = (socket if isinstance(socket, str) else "", lpath + (i,))
        seen: dict[str, tuple[str, str]] = {}
        for key, (socket, epath) in chosen.items():
            if socket in seen:
                other = "/".join(seen[socket])
                out.error(
                    "SV7",
                    f"Machine '{mname}': consumes '{'/'.join(key)}' and '{other}' at the same socket path "
                    f"'{socket}'; give one a 'socket:'",
                    epath,
                )
            else:
                seen[socket] = key


def check_service_warnings(inv: Inventory, out: Collector) -> None:
    """W12: a consumed service of a disabled domain, or an admin service consumed by a low-trust domain."""
    lists = [(f"Domain '{d}'", d, body.get("consumes"), ("domains", d)) for d, body in inv.domains.items()]
    lists += [(f"Machine '{m}'", d, body.get("consumes"), path) for d, m, body, path in machines_of(inv)]
    for who, dname, entries, path in lists:
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            ref = parse_entry(entry)[0] if isinstance(entry, (str, dict)) else ""
            provider = split_ref(ref)[0]
            if provider not in inv.machines:
                continue
            pdomain_name = inv.machines[provider][0]
            pdomain = inv.domains.get(pdomain_name, {})
            epath = path + ("consumes", i)
            if pdomain.get("enabled") is False:
                out.warning(
                    "W12",
                    f"{who} consumes '{ref}' but the provider's domain '{pdomain_name}' is disabled "
                    "(the service is not there)",
                    epath,
                )
            trust = effective_trust(inv.domains.get(dname, {}))
            if effective_trust(pdomain) == "admin" and trust in LOW_TRUST:
                out.warning(
                    "W12",
                    f"{who} ({trust} domain '{dname}') consumes '{ref}' of the admin domain '{pdomain_name}'",
                    epath,
                )
