"""Every shipped example applies with provisioning on the throwaway daemon, and a second apply changes nothing
(issue 25): no action, and Ansible reports changed=0 on every host.

Each test applies a copy of the example (tests/provision/example_helpers.py) with these changes, for what this
host cannot give:
- `images:debian/13` is served by a stand-in: the systemd test image (Debian bookworm booted by systemd, with
  the packages the roles install pre-seeded), imported locally; `anklume_offline: true` below the managed
  section of group_vars/all.yml, as the containers have no route out; the download roles' offline paths copy
  stand-ins from this machine (ai_roles_helpers.py: archives, wheel and model, `docker save` archives).
- a machine of `type: vm` is made a container (no KVM/vhost_vsock here), a `gpu: true` is dropped (no GPU):
  the plan of the unchanged example, read from the same daemon first, is checked to ask Incus for the VM
  (type virtual-machine, its limits) and for the gpu device, so only the last step (Incus making them) is
  not exercised.
- `linux.kernel_modules` (swarm-lab) is dropped: Incus runs modprobe on the host for it, which the test hosts
  lack; the unchanged example's plan is checked to carry it.
- host folders of shared volumes and persistent data go under the test's folder instead of /srv/anklume.
"""

from __future__ import annotations

import pytest

from tests.provision.example_helpers import converges, example_params, import_stand_in


@pytest.fixture(scope="module")
def stand_in(incus_daemon):
    import_stand_in(incus_daemon)


@pytest.mark.parametrize(
    "example", example_params("directory-form", "student-sysadmin", "sandbox-isolation", "teacher-lab")
)
def test_example_applies_with_provisioning_and_a_second_apply_changes_nothing(example, incusd, stand_in, tmp_path):
    converges(example, incusd, tmp_path)
