"""`global.incus`: the infra names the Incus it applies to — a remote of the incus CLI's config by its name, or
explicitly with its certificates — and `status` reaches it over HTTPS; an unknown remote's name is refused
naming the remotes there are; `--incus` wins over the infra.

The throwaway daemon listens on 127.0.0.1:8443 inside its own network namespace only (enable_https), and the
local socket is pointed nowhere ($INCUS_DIR): a status that answers went over HTTPS to the remote."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from anklume_tui import cli
from anklume_tui.engine.incus import resolve_endpoint, use_infra_incus
from anklume_tui.psot.incus_target import incus_target
from tests.engine.incus_helpers import isolate_host
from tests.engine.move_helpers import INFRA, machine_made

pytestmark = pytest.mark.incus

REMOTES = """\
default-remote: local
remotes:
  images:
    addr: https://images.example.org
    protocol: simplestreams
    public: true
  lab:
    addr: {url}
    auth_type: tls
    protocol: incus
    public: false
"""


def with_incus(setting: str) -> str:
    return INFRA.replace("  nesting_prefix: false\n", f"  nesting_prefix: false\n  incus: {setting}\n")


def test_status_reaches_the_infras_remote_by_name_or_explicitly_and_an_unknown_remote_is_refused(
    incusd, tmp_path, monkeypatch, capsys
):
    isolate_host(tmp_path, monkeypatch)
    access = incusd.enable_https()
    conf = tmp_path / "incus-cli"
    (conf / "servercerts").mkdir(parents=True)
    shutil.copy(access["cert"], conf / "client.crt")
    shutil.copy(access["key"], conf / "client.key")
    shutil.copy(access["server_cert"], conf / "servercerts" / "lab.crt")
    (conf / "config.yml").write_text(REMOTES.format(url=access["url"]))
    monkeypatch.setenv("INCUS_CONF", str(conf))
    monkeypatch.setenv("INCUS_DIR", str(tmp_path / "no-daemon"))  # the local socket answers nothing
    infra = machine_made(incusd, tmp_path)

    def status(setting: str, *more: str) -> tuple[int, str, str]:
        infra.write_text(with_incus(setting))
        code = incusd.in_netns(lambda: cli.main(["--batch", "status", "--json", "--infra", str(infra), *more]))
        out, err = capsys.readouterr()
        return code, out, err

    def state(out: str) -> str:
        [domain] = json.loads(out)["domains"]
        return domain["machines"][0]["state"]

    code, out, err = status("{remote: lab}")
    assert (code, state(out)) == (0, "Running"), err
    certs = tmp_path / "certs"  # relative to the infra's folder
    certs.mkdir()
    for name in ("cert", "key", "server_cert"):
        shutil.copy(access[name], certs / f"{name}.pem")
    explicit = (
        f"{{url: '{access['url']}', client_cert: certs/cert.pem, client_key: certs/key.pem, "
        "server_cert: certs/server_cert.pem}"
    )
    monkeypatch.setenv("INCUS_CONF", str(tmp_path / "empty"))  # the infra's files only, none of the CLI's
    code, out, err = status(explicit)
    assert (code, state(out)) == (0, "Running"), err
    # What provisioning hands its Ansible connection (a process of its own): the run's endpoint as environment
    # variables, the infra's files with it, which the child's client reads back.
    use_infra_incus(incus_target(yaml.safe_load(explicit), tmp_path))
    try:
        handed = resolve_endpoint(None).environment()
    finally:
        use_infra_incus(None)
    assert handed["ANKLUME_INCUS_CLIENT_CERT"] == str(certs / "cert.pem")
    for name, value in handed.items():
        monkeypatch.setenv(name, value)
    code, out, err = status("local")  # $ANKLUME_INCUS, as the child gets it, wins over the infra
    assert (code, state(out)) == (0, "Running"), err
    for name in handed:
        monkeypatch.delenv(name)
    monkeypatch.setenv("INCUS_CONF", str(conf))
    code, out, err = status("{remote: nowhere}")
    assert code == 2
    listed = f"(remotes in {conf / 'config.yml'}: lab, local)"
    assert f"{infra}: error[IN2]: global.incus.remote: the incus CLI has no remote 'nowhere' {listed}" in err
    assert json.loads(out)["ok"] is False
    code, out, err = status("{remote: lab}", "--incus", incusd.url)  # the command line wins
    assert (code, state(out)) == (0, "Running"), err
    code, _, err = status("local")
    assert code == 3 and "no-daemon" in err  # without global.incus: the local socket, which is not there
    monkeypatch.setenv("INCUS_DIR", str(incusd.incus_dir))
    code, out, err = status("{remote: local}")  # the incus CLI's own local remote: the same socket
    assert (code, state(out)) == (0, "Running"), err


def test_a_broken_incus_cli_config_names_no_remote_instead_of_failing(tmp_path):
    from anklume_tui.engine.incus import incus_remotes

    (tmp_path / "config.yml").write_text("remotes: {lab: [unclosed\n")
    assert set(incus_remotes(tmp_path)) == {"local"}


def test_the_incus_cli_config_is_read_only_for_an_infra_naming_a_remote(tmp_path, monkeypatch):
    from anklume_tui.engine.host import gather_host_context

    monkeypatch.setenv("INCUS_CONF", str(tmp_path / "incus"))
    plain = tmp_path / "plain.yml"
    plain.write_text("project_name: p\ndomains: {}\n")
    named = tmp_path / "named.yml"
    named.write_text("project_name: p\nglobal:\n  incus: {remote: lab}\ndomains: {}\n")
    assert gather_host_context(with_networks=False, infra=plain).incus_remotes is None
    assert gather_host_context(with_networks=False, infra=named).incus_remotes == frozenset({"local"})
