"""`incus exec` for the tests, through Incus's recorded-output exec instead of the CLI's websockets.

Incus 6.0's CLI in non-interactive mode (what a test's captured `incus exec` is) now and then returns the
command's exit code with its stdout lost: 3-12 of 150 `incus exec c1 -- getent passwd root` printed nothing
with exit 0 on a loaded 2-core machine, while 300 recorded-output execs of the same command lost nothing
(/tmp/probe figures in the commit that added this). Tests read machines' state through exec, so each lost line
was a false failure. `ThrowawayIncus.incus("exec", …)` goes through `recorded_exec` instead: plain httpx over
the daemon's socket, independent of the client under test, the output read from the files Incus records.
"""

from __future__ import annotations

import subprocess
from typing import Any

import httpx


def exec_request(args: tuple[str, ...]) -> tuple[str, str, list[str]] | None:
    """(instance, project, command) of `[--project=P] exec NAME [--project P] -- CMD…`, or None for any other
    form (other options, no `--`): those keep the CLI."""
    if "--" not in args:
        return None
    head, command = list(args[: args.index("--")]), list(args[args.index("--") + 1 :])
    project, words = "default", []
    while head:
        word = head.pop(0)
        if word.startswith("--project="):
            project = word.split("=", 1)[1]
        elif word == "--project" and head:
            project = head.pop(0)
        elif word.startswith("-"):
            return None
        else:
            words.append(word)
    if len(words) != 2 or words[0] != "exec" or not command:
        return None
    return words[1], project, command


def recorded_exec(socket_path: str, argv: list[str], instance: str, project: str, command: list[str], timeout: float):
    """Run `command` in the instance as root with its output recorded; a CompletedProcess as the CLI gives
    (the command's exit code; Incus's own error on stderr with exit 1, as `incus exec` says it)."""
    transport = httpx.HTTPTransport(uds=socket_path)
    with httpx.Client(transport=transport, base_url="http://incus", timeout=timeout + 30) as http:
        started = http.post(
            f"/1.0/instances/{instance}/exec",
            params={"project": project},
            json={"command": command, "record-output": True, "wait-for-websocket": False, "interactive": False},
        )
        body: dict[str, Any] = started.json()
        if started.status_code >= 400 or body.get("type") == "error":
            return subprocess.CompletedProcess(argv, 1, "", f"Error: {body.get('error', started.text)}\n")
        waited = http.get(f"{body['operation']}/wait", params={"timeout": int(timeout)}).json()
        meta = waited.get("metadata") or {}
        if meta.get("status_code") != 200 or not isinstance(meta.get("metadata"), dict):
            return subprocess.CompletedProcess(argv, 1, "", f"Error: {meta.get('err') or waited.get('error')}\n")
        result = meta["metadata"]
        streams = []
        for fd in ("1", "2"):
            path = result.get("output", {}).get(fd)
            streams.append(http.get(path, params={"project": project}).text if path else "")
            if path:
                http.delete(path, params={"project": project})
        return subprocess.CompletedProcess(argv, int(result.get("return", 1)), streams[0], streams[1])
