"""`disp`: Incus-ephemeral instances inside a domain's project, checked with the incus CLI."""

from __future__ import annotations

import os
import signal
import subprocess
from types import SimpleNamespace

import pytest

from anklume_tui.engine.machines.disposables import DisposableError, choose_domain, create_disposable
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from tests.engine.apply_helpers import ROOT, batch, batch_cmd, batch_env
from tests.engine.lifecycle_helpers import TWO_DOMAINS, applied, instance_list
from tests.wait_helpers import wait_until

pytestmark = pytest.mark.incus


def disposables(daemon) -> list[dict]:
    return [i for i in instance_list(daemon) if "disp-" in i["name"]]


def load(tmp_path, text: str = TWO_DOMAINS):
    path = tmp_path / "infra.yml"
    path.write_text(text)
    result = run_psot(path, HostContext(skip_subnet_check=True))
    assert result.valid, [f.render() for f in result.findings]
    return result.infra


def test_domain_is_the_requested_one_else_the_first_disposable_one(tmp_path):
    infra = load(tmp_path, TWO_DOMAINS + "  another:\n    trust_level: disposable\n    machines:\n      x-box: {}\n")
    assert choose_domain(infra, None).name == "another"
    assert choose_domain(infra, "work").project == "work"
    with pytest.raises(DisposableError, match="unknown domain"):
        choose_domain(infra, "nope")
    plain = load(tmp_path, TWO_DOMAINS.replace("trust_level: disposable", "trust_level: untrusted"))
    with pytest.raises(DisposableError, match="--domain"):
        choose_domain(plain, None)


async def test_vm_disposable_asks_incus_for_an_ephemeral_vm_in_the_domain_project(tmp_path):
    calls: list[tuple] = []

    async def create_instance(name, project, **kw):
        calls.append((name, project, kw))

    async def get_image_alias(alias, project):
        return SimpleNamespace(target="f" * 64)

    async def nothing(*args, **kw):
        return []

    fake = SimpleNamespace(
        get_project=nothing, get_image_alias=get_image_alias, list_instances=nothing, create_instance=create_instance
    )
    disp = await create_disposable(fake, load(tmp_path), vm=True, image="busybox")
    [(name, project, kw)] = calls
    assert (project, disp.type, kw["type"]) == ("throw", "virtual-machine", "virtual-machine")
    assert name.startswith("disp-") and kw["ephemeral"] and kw["start"] and kw["profiles"] == ["default"]
    assert kw["config"]["user.anklume.managed"] == "true"


def test_command_runs_in_the_disposable_domain_and_it_is_gone_afterwards(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    result = batch(incusd, tmp_path, "disp", infra, "--", "sh", "-c", "echo hello from $(hostname); exit 7")
    assert result.returncode == 7, result.stderr
    assert result.stdout.startswith("hello from disp-")
    assert "throw/disp-" in result.stderr
    assert disposables(incusd) == []


def test_no_attach_leaves_a_tagged_ephemeral_instance_on_the_domain_bridge(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    incusd.incus("image", "alias", "create", "bb-only-default", incusd.query("/1.0/images/aliases/busybox")["target"])
    result = batch(incusd, tmp_path, "disp", infra, "--domain", "work", "--image", "bb-only-default", "--no-attach")
    assert result.returncode == 0, result.stderr
    name = result.stdout.strip()
    [found] = disposables(incusd)
    assert (found["project"], found["name"], found["status"]) == ("work", name, "Running")
    assert found["ephemeral"] is True
    assert found["config"]["user.anklume.managed"] == "true"
    assert found["profiles"] == ["default"]
    assert found["expanded_devices"]["eth0"]["network"] == "net-work"
    aliases = {a["name"] for a in incusd.incus_json("image", "alias", "list", "--project=work")}
    assert "bb-only-default" in aliases  # copied from default into the domain's own image store
    assert all(i["project"] != "default" for i in instance_list(incusd))
    incusd.incus("stop", name, "--project=work", "--force")
    assert disposables(incusd) == []


async def test_a_taken_name_gets_a_short_suffix():
    from datetime import datetime

    from anklume_tui.engine.machines.disposables import _free_name
    from anklume_tui.psot.names import disposable_name

    base = disposable_name("001-", datetime(2026, 1, 2, 3, 4, 5))
    assert base == "001-disp-20260102-030405"

    async def list_instances(project):
        return [SimpleNamespace(name=base)]

    name = await _free_name(SimpleNamespace(list_instances=list_instances), "001-throw", base)
    assert name.startswith(base + "-") and len(name) == len(base) + 5


def test_killing_the_tool_leaves_a_disposable_that_stopping_destroys(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    tool = subprocess.Popen(
        batch_cmd("disp", infra, "--", "sleep", "30"),
        env=batch_env(incusd, tmp_path),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def running() -> bool:
        assert tool.poll() is None, tool.communicate()  # the tool ended before its disposable ran
        return any(d["status"] == "Running" for d in disposables(incusd))

    wait_until(running, 30, "the tool's disposable to run", 0.2)
    os.kill(tool.pid, signal.SIGKILL)
    tool.wait()
    [orphan] = disposables(incusd)
    assert orphan["project"] == "throw"
    incusd.incus("stop", orphan["name"], "--project=throw", "--force")
    assert disposables(incusd) == []


def test_without_a_disposable_domain_it_asks_for_one(incusd, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(TWO_DOMAINS.replace("trust_level: disposable", "trust_level: untrusted"))
    result = batch(incusd, tmp_path, "disp", infra, "--no-attach")
    assert result.returncode == 2
    assert "--domain" in result.stderr
    assert instance_list(incusd) == []


def test_without_command_a_shell_is_attached_and_its_end_destroys_the_disposable(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    result = subprocess.run(
        batch_cmd("disp", infra),
        env=batch_env(incusd, tmp_path),
        cwd=ROOT,
        input="echo shell in $(hostname)\nexit 3\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    assert "shell in disp-" in result.stdout
    assert "stopped and destroyed" in result.stderr
    assert disposables(incusd) == []
