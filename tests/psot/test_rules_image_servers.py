"""Image servers (`global.image_servers`, rules IS1 and IS2): a remote prefix maps to a simplestreams server; the
defaults stay (`images:` is the public server) unless the file points them elsewhere."""

from __future__ import annotations

from anklume_tui.psot.constants import DEFAULT_IMAGE_SERVERS
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot

from .psot_helpers import infra, rule_case_tests, structural_findings

MACHINE_IMAGE = """\
pro:
  subnet_id: 1
  machines:
    pro-dev:
      ip: 10.100.1.10
      os_image: "mirror:debian/12"  # <-
"""

CASES = [
    ("IS1", infra("image_servers: ['https://mirror.example/']  # <-"), ("['https://mirror.example/']", "{}")),
    (
        "IS1",
        infra("image_servers:\n  mirror: http://mirror.example/  # <-"),
        ("http://", "https://"),
    ),
    (
        "IS1",
        infra("image_servers:\n  mirror: 'https://'  # <-"),
        ("'https://'", "https://mirror.example"),
    ),
    (
        "IS1",
        infra("image_servers:\n  mirror: https://mirror.example/?x=1  # <-"),
        ("?x=1", ""),
    ),
    (
        "IS1",
        infra("image_servers:\n  My_Mirror: https://mirror.example/  # <-"),
        ("My_Mirror", "my-mirror"),
    ),
    ("IS2", infra(domains=MACHINE_IMAGE), ('"mirror:', '"images:')),
    (
        "IS2",
        infra('default_os_image: "mirror:debian/12"  # <-'),
        ('"mirror:', '"ubuntu:'),
    ),
]


test_image_server_rule_reports_an_error_on_the_offending_node, test_near_identical_image_servers_pass = rule_case_tests(
    CASES
)


def test_a_declared_prefix_is_known_to_machines(tmp_path):
    text = infra("image_servers:\n  mirror: https://mirror.example/", domains=MACHINE_IMAGE)
    assert structural_findings(tmp_path, text) == []


def test_unknown_prefix_message_names_the_known_servers(tmp_path):
    (found,) = structural_findings(tmp_path, infra(domains=MACHINE_IMAGE))
    assert "unknown image server 'mirror'" in found.message
    assert "images, ubuntu" in found.message


def test_model_maps_declared_prefixes_over_the_defaults(tmp_path):
    text = infra(
        "image_servers:\n  mirror: https://mirror.example/\n  images: https://images.mirror.example",
        domains=MACHINE_IMAGE,
    )
    path = tmp_path / "infra.yml"
    path.write_text(text)
    result = run_psot(path, HostContext())
    assert result.infra is not None, [f.render() for f in result.findings]
    assert result.infra.image_servers == {
        "images": "https://images.mirror.example",
        "mirror": "https://mirror.example/",
        "ubuntu": DEFAULT_IMAGE_SERVERS["ubuntu"],
    }


def test_without_image_servers_the_defaults_stand(tmp_path):
    path = tmp_path / "infra.yml"
    path.write_text(infra())
    result = run_psot(path, HostContext())
    assert result.infra is not None
    assert result.infra.image_servers == DEFAULT_IMAGE_SERVERS
    assert DEFAULT_IMAGE_SERVERS["images"] == "https://images.linuxcontainers.org"
