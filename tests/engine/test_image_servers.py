"""Images from a simplestreams server named in infra.yml (`global.image_servers`), over HTTPS, on a real daemon.

The server is local (tests/engine/simplestreams_helpers.py) and listens inside the daemon's private network
namespace; its self-signed certificate is trusted the way a host trusts a private mirror's: in the system CA
store the daemon reads (here SSL_CERT_FILE in the daemon's environment), so this module has its own daemon.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.engine.apply_helpers import batch, plan_json
from tests.engine.simplestreams_helpers import ImageServer, make_certificate, serve_images
from tests.image_helpers import build_debian_image
from tests.incusd_helpers import ThrowawayIncus, incus_installed


@dataclass
class TrustingIncus(ThrowawayIncus):
    """A throwaway daemon whose system CA store is one file (Go reads SSL_CERT_FILE)."""

    ca_file: str = ""

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "SSL_CERT_FILE": self.ca_file}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TrustingIncus, ImageServer]]:
    if not incus_installed() or os.geteuid() != 0:
        pytest.skip("needs incusd and root")
    folder = tmp_path_factory.mktemp("mirror")
    cert, _ = make_certificate(folder)
    daemon = TrustingIncus(ca_file=str(cert)).start(with_busybox=False)
    try:
        with serve_images(daemon, folder / "www", build_debian_image()) as server:
            yield daemon, server
    finally:
        daemon.stop()


INFRA = """\
project_name: mirrored
global:
  addressing: {{}}
  image_servers:
    mirror: {url}
domains:
  lab:
    machines:
{machines}"""


def infra_with(tmp_path: Path, url: str, *machines: str) -> Path:
    path = tmp_path / "infra.yml"
    body = "".join(f'      {m}:\n        os_image: "mirror:debian/12"\n' for m in machines)
    path.write_text(INFRA.format(url=url, machines=body))
    return path


def running(daemon: ThrowawayIncus, project: str) -> dict[str, str]:
    return {i["name"]: i["status"] for i in daemon.incus_json("list", f"--project={project}")}  # type: ignore[union-attr]


def test_machine_from_a_declared_image_server_is_pulled_over_https_once_then_reused(mirror, tmp_path):
    daemon, server = mirror
    infra = infra_with(tmp_path, server.url, "lab-one")
    plan = plan_json(daemon, tmp_path, infra)
    (download,) = [a for a in plan["actions"] if a["kind"] == "image"]
    assert download["op"] == "download" and server.url in download["detail"], download

    first = batch(daemon, tmp_path, "apply", infra)
    assert first.returncode == 0, first.stderr + daemon.log_tail()
    assert running(daemon, "lab") == {"lab-one": "Running"}
    (image,) = daemon.incus_json("image", "list", "--project=lab")  # type: ignore[misc]
    assert image["fingerprint"] == server.fingerprint
    assert image["update_source"]["server"].rstrip("/") == server.url.rstrip("/")
    assert image["update_source"]["alias"] == "debian/12"
    assert server.fetches("/root.tar.xz") == 1, server.requests

    # A second machine from the same image: the cached image serves it, nothing is downloaded again.
    infra = infra_with(tmp_path, server.url, "lab-one", "lab-two")
    second = batch(daemon, tmp_path, "apply", infra)
    assert second.returncode == 0, second.stderr + daemon.log_tail()
    assert running(daemon, "lab") == {"lab-one": "Running", "lab-two": "Running"}
    assert server.fetches("/root.tar.xz") == 1, server.requests
    assert len(daemon.incus_json("image", "list", "--project=lab")) == 1  # type: ignore[arg-type]
    assert daemon.incus("exec", "lab-two", "--project=lab", "--", "python3", "-c", "print(6*7)").stdout == "42\n"
    assert plan_json(daemon, tmp_path, infra)["actions"] == []
