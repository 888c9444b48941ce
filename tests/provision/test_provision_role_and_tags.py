"""`provision --role NAME` and `--tags T` on real containers: only the chosen roles (or tagged tasks) run, on the
machines that get them; an unknown role is a usage error naming the roles there are. Three roles of the test's
own (roles_custom/) each append their name to /root/order, so what ran, and in which order, is read back."""

from __future__ import annotations

from pathlib import Path

from tests.provision.provision_helpers import (
    anklume,
    apply_without_provisioning,
    in_machine,
    json_of,
    two_domains,
    write_lab,
)

INFRA = two_domains(alpha_one="{roles: [mark_second, mark_first, mark_zero]}")

MARK_ROLE = """\
- name: Say this role ran
  ansible.builtin.shell: echo {name} >> /root/order
"""


def write_roles(tree: Path) -> None:
    for name in ("mark_first", "mark_second", "mark_zero"):
        tasks = tree / "roles_custom" / name / "tasks"
        tasks.mkdir(parents=True)
        (tasks / "main.yml").write_text(MARK_ROLE.format(name=name))


def order(daemon, machine: str = "alpha-one") -> list[str]:
    return in_machine(daemon, machine, "sh", "-c", "cat /root/order 2>/dev/null").stdout.split()


def has_login_user(daemon, machine: str) -> bool:
    """base_system's mark: the login user."""
    return in_machine(daemon, machine, "getent", "passwd", "student").returncode == 0


def test_role_and_tags_run_only_what_they_name(incusd, debian_image, tmp_path):
    infra = write_lab(tmp_path, incusd, INFRA)
    write_roles(tmp_path)
    apply_without_provisioning(incusd, tmp_path, infra)

    unknown = anklume(incusd, tmp_path, "provision", infra, "--role", "mark_third")
    assert unknown.returncode == 2, unknown.stderr
    assert "the roles are: base_system, mark_first, mark_second, mark_zero" in unknown.stderr, unknown.stderr

    one = anklume(incusd, tmp_path, "provision", infra, "--role", "mark_second", "--json")
    assert one.returncode == 0, one.stderr + one.stdout
    assert [h["host"] for h in json_of(one)["hosts"]] == ["alpha-one"]  # beta-one does not get the role
    assert order(incusd) == ["mark_second"]
    assert not has_login_user(incusd, "alpha-one")  # base_system did not run

    tagged = anklume(incusd, tmp_path, "provision", infra, "--tags", "mark_first")
    assert tagged.returncode == 0, tagged.stderr + tagged.stdout
    assert order(incusd) == ["mark_second", "mark_first"]
    assert not has_login_user(incusd, "alpha-one") and not has_login_user(incusd, "beta-one")

    three = anklume(incusd, tmp_path, "provision", infra, "--role", "mark_zero,mark_first", "--role", "mark_second")
    assert three.returncode == 0, three.stderr + three.stdout
    # in the order the machine lists them, whatever the order given (site.yml once reordered them by hash)
    assert order(incusd) == ["mark_second", "mark_first", "mark_second", "mark_first", "mark_zero"]
    assert not has_login_user(incusd, "alpha-one")

    # Two machines listing the same roles in opposite orders: each runs them in its own order (a loop of
    # include_role ran both in one order, whichever machine's include result Ansible read first).
    infra.write_text(INFRA.replace("beta-one: {}", "beta-one: {roles: [mark_zero, mark_first, mark_second]}"))
    apply_without_provisioning(incusd, tmp_path, infra)
    both = anklume(incusd, tmp_path, "provision", infra, "--role", "mark_zero,mark_first,mark_second")
    assert both.returncode == 0, both.stderr + both.stdout
    assert order(incusd)[5:] == ["mark_second", "mark_first", "mark_zero"]
    assert order(incusd, "beta-one") == ["mark_zero", "mark_first", "mark_second"]
