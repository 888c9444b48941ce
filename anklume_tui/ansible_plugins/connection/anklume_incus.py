"""Ansible connection `anklume_incus`: commands and files inside an Incus instance, through anklume-tui's
own Incus client (engine/incus/client.py), over the unix socket or HTTPS that `$ANKLUME_INCUS` names.

Ansible workers are plain blocking processes: each connection keeps one event loop and one client and
runs the client's coroutines on it. Commands run with Incus recording their output (no websocket, so no
stdin of their own): when Ansible pipelines a module on stdin, the module goes in as a file that the shell
takes as its stdin and unlinks before running the command. A task then costs one file push and one exec
instead of five round trips.
"""

from __future__ import annotations

import asyncio
import secrets
import shlex
from pathlib import Path

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from anklume_tui.engine.incus.client import IncusClient, IncusError, IncusNotFound, IncusUnreachable, IncusUrlError

DOCUMENTATION = """
name: anklume_incus
short_description: Run tasks inside Incus instances through the Incus API (anklume-tui)
description:
  - Runs commands with Incus exec and moves files with the Incus file API, as root, in the instance's
    project. anklume-tui supplies these variables at run time; the generated tree never holds them.
author: anklume-tui
extends_documentation_fragment:
  - connection_pipelining
options:
  instance:
    description: Name of the instance in Incus (with the nesting prefix).
    type: str
    vars:
      - name: instance_name
      - name: inventory_hostname
  project:
    description: Incus project of the instance.
    type: str
    default: default
    vars:
      - name: incus_project
  incus_url:
    description: unix:///path/to/unix.socket or https://host:8443; empty means the default socket.
    type: str
    default: ""
    env:
      - name: ANKLUME_INCUS
    vars:
      - name: anklume_incus_url
  command_timeout:
    description: Seconds one command may run (a package install, an image pull) before it is given up.
    type: int
    default: 3600
    vars:
      - name: anklume_incus_command_timeout
"""

display = Display()


class Connection(ConnectionBase):
    transport = "anklume_incus"
    has_pipelining = True
    default_user = "root"
    _connected: bool  # ConnectionBase's, set in its __init__

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: IncusClient | None = None

    @property
    def _where(self) -> str:
        return f"instance {self.get_option('instance')} (Incus project {self.get_option('project')})"

    def _run(self, coroutine):
        """Run one client call. A machine that cannot be reached (Incus away, instance missing or stopped)
        makes the host unreachable; any other Incus error fails the task. Both name the instance."""
        assert self._loop is not None
        try:
            return self._loop.run_until_complete(coroutine)
        except IncusUnreachable as exc:
            raise AnsibleConnectionFailure(f"{self._where}: {exc}") from None
        except IncusNotFound:
            raise AnsibleConnectionFailure(f"{self._where} does not exist") from None
        except IncusError as exc:
            if exc.message == "Instance is not running":
                raise AnsibleConnectionFailure(f"{self._where} is not running") from None
            raise AnsibleError(f"{self._where}: {exc}") from None

    def _connect(self) -> Connection:
        if self._connected:
            return self
        self._loop = asyncio.new_event_loop()
        try:
            self._client = IncusClient(self.get_option("incus_url") or None)
        except IncusUrlError as exc:
            raise AnsibleConnectionFailure(str(exc)) from None
        self._connected = True
        display.vvv(f"ESTABLISH INCUS CONNECTION TO {self._where}", host=self.get_option("instance"))
        return self

    def exec_command(self, cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        self._connect()
        assert self._client is not None
        display.vvv(f"EXEC {cmd}", host=self.get_option("instance"))
        if in_data is not None:
            stdin = f"/tmp/.anklume-stdin-{secrets.token_hex(8)}"
            self._run(
                self._client.push_file(
                    self.get_option("instance"), stdin, in_data, mode=0o600, project=self.get_option("project")
                )
            )
            cmd = f"exec <{stdin}\nrm -f {stdin}\n{cmd}"
        shell = self._play_context.executable or "/bin/sh"
        result = self._run(
            self._client.exec(
                self.get_option("instance"),
                [shell, "-c", cmd],
                timeout=float(self.get_option("command_timeout")),
                project=self.get_option("project"),
            )
        )
        return result.exit_code, result.stdout.encode(), result.stderr.encode()

    def put_file(self, in_path: str, out_path: str) -> None:
        super().put_file(in_path, out_path)
        self._connect()
        assert self._client is not None
        display.vvv(f"PUT {in_path} TO {out_path}", host=self.get_option("instance"))
        source = Path(in_path)
        if not source.is_file():
            raise AnsibleFileNotFound(f"file or module does not exist: {in_path}")
        target = self._absolute(out_path)
        self._run(
            self._client.push_file(
                self.get_option("instance"), target, source.read_bytes(), mode=0o600, project=self.get_option("project")
            )
        )

    def fetch_file(self, in_path: str, out_path: str) -> None:
        super().fetch_file(in_path, out_path)
        self._connect()
        assert self._client is not None
        display.vvv(f"FETCH {in_path} TO {out_path}", host=self.get_option("instance"))
        found = self._run(
            self._client.pull_file(
                self.get_option("instance"), self._absolute(in_path), project=self.get_option("project")
            )
        )
        if found.type != "file":
            raise AnsibleError(f"{in_path} in {self._where} is a {found.type}, not a file")
        Path(out_path).write_bytes(found.content or b"")

    def _absolute(self, path: str) -> str:
        """The file API wants absolute paths; Ansible may hand over `~`-relative ones (root's home)."""
        if path == "~" or path.startswith("~/"):
            return "/root" + path[1:]
        if not path.startswith("/"):
            raise AnsibleError(f"the anklume_incus connection needs an absolute path, not {shlex.quote(path)}")
        return path

    def reset(self) -> None:
        """`meta: reset_connection`: a fresh client on the next command."""
        self.close()

    def close(self) -> None:
        if self._loop is not None:
            if self._client is not None:
                self._loop.run_until_complete(self._client.close())
            self._loop.close()
        self._loop = None
        self._client = None
        self._connected = False
