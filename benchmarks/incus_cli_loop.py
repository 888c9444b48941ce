"""The floor of an apply from nothing: a serial loop of `incus` commands making the same end state.

The commands are read from what our apply made (so the end state is the same by construction): each project
with its config, each bridge with its config, each project's default profile with its root disk and nic, each
project's copy of the image (through `incus query`: `incus image copy` cannot copy between projects of one
daemon without a network listener), and each instance launched with its config keys and static IPv4 address.
After the loop, our `plan` against what it made is expected to find nothing to do but the context files
(SPEC §5.6) of each instance, which our apply writes (one exec each, recorded on the project) and the loop does
not (checked by the benchmark).
"""

from __future__ import annotations

import json
import time
from typing import Any

from anklume_tui.engine.reconcile.context_record import RECORD_KEY
from anklume_tui.engine.reconcile.desired import CONTEXT_KEY
from tests.incusd_helpers import ThrowawayIncus

SKIPPED_INSTANCE_KEYS = ("volatile.", "image.")
# Which instances hold their context files: our apply's record, naming our instances' volatile.uuid.
SKIPPED_PROJECT_KEYS = (RECORD_KEY,)


def pairs(config: dict[str, str], skip: tuple[str, ...] = ()) -> list[str]:
    return [f"{key}={value}" for key, value in sorted(config.items()) if not key.startswith(skip)]


def loop_commands(daemon: ThrowawayIncus, projects: list[str]) -> list[list[str]]:
    """`incus` argument lists that make, from an empty daemon, what `projects` now hold."""
    wanted = set(projects)
    commands: list[list[str]] = []
    for project in daemon.query("/1.0/projects?recursion=1"):
        if project["name"] in wanted:
            config = [arg for kv in pairs(project["config"], SKIPPED_PROJECT_KEYS) for arg in ("-c", kv)]
            commands.append(["project", "create", project["name"], *config])
    for net in daemon.query("/1.0/networks?recursion=1&all-projects=true"):
        users = {use.partition("project=")[2] for use in net.get("used_by", [])}
        if net.get("managed") and users & wanted:
            where = f"--project={net.get('project', 'default')}"
            commands.append(["network", "create", net["name"], "--type=bridge", where, *pairs(net["config"])])
    for project in projects:
        profile: dict[str, Any] = daemon.query(f"/1.0/profiles/default?project={project}")
        for name, device in sorted(profile["devices"].items()):
            kind = device["type"]
            rest = {k: v for k, v in device.items() if k != "type"}
            commands.append(["profile", "device", "add", "default", name, kind, *pairs(rest), f"--project={project}"])
        if profile["config"]:
            commands.append(["profile", "set", "default", *pairs(profile["config"]), f"--project={project}"])
        for image in daemon.query(f"/1.0/images?recursion=1&project={project}"):
            # `incus image copy` between projects of one daemon needs a network listener; `incus query` posts
            # the same copy our apply asks for
            source = {"type": "image", "mode": "pull", "protocol": "incus", "project": "default"}
            body = {"source": source | {"fingerprint": image["fingerprint"]}, "aliases": image["aliases"]}
            url = f"/1.0/images?project={project}"
            commands.append(["query", "-X", "POST", "--wait", "-d", json.dumps(body), url])
    for project in projects:
        for inst in daemon.query(f"/1.0/instances?recursion=1&project={project}"):
            cmd = ["launch", image_of(inst), inst["name"], f"--project={project}", "--quiet"]
            cmd += [f"--profile={name}" for name in inst["profiles"]]
            cmd += [arg for kv in pairs(inst["config"], SKIPPED_INSTANCE_KEYS) for arg in ("-c", kv)]
            for name, device in sorted(inst["devices"].items()):
                if device.get("ipv4.address"):
                    cmd.append(f"--device={name},ipv4.address={device['ipv4.address']}")
            commands.append(cmd)
    return commands


def only_context_files(action: dict[str, Any], drift: list[dict[str, Any]]) -> bool:
    """A planned action of `plan --json` that only writes an instance's context files, by the plan's drift."""
    fields = {
        d["field"]
        for d in drift
        if (d["kind"], d["project"], d["name"]) == ("instance", action["project"], action["name"])
    }
    return action["op"] == "update" and fields == {f"config.{CONTEXT_KEY}"}


def image_of(inst: dict[str, Any]) -> str:
    return str(inst["config"].get("volatile.base_image", ""))


def run_loop(daemon: ThrowawayIncus, commands: list[list[str]]) -> float:
    """Seconds the serial loop takes, every command a whole `incus` process."""
    t0 = time.perf_counter()
    for cmd in commands:
        daemon.incus(*cmd)
    return time.perf_counter() - t0
