"""The examples with Docker Swarm and the developer roles apply with provisioning, and a second apply changes
nothing (issue 25); a file of their own so that CI runs them beside the others. What the copies change and why:
test_examples_apply_and_provision.py."""

from __future__ import annotations

import pytest

from tests.provision.example_helpers import converges, example_params, import_stand_in


@pytest.fixture(scope="module")
def stand_in(incus_daemon):
    import_stand_in(incus_daemon)


@pytest.mark.parametrize("example", example_params("swarm-lab", "developer"))
def test_example_applies_with_provisioning_and_a_second_apply_changes_nothing(example, incusd, stand_in, tmp_path):
    converges(example, incusd, tmp_path)
