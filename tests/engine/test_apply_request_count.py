"""What apply asks of Incus, counted at the transport on the real daemon (issue 17): each new machine costs one
create-and-start operation, then its context files (one exec; their record is one write per project, not per
machine); a no-op apply costs a fixed number of requests whatever the machine count, reading once at its end
what the record, the ruleset's bridges and the running check need. The machines are checked Running with
their context files through the incus CLI."""

from __future__ import annotations

import pytest

from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.reconcile.apply import apply
from tests.engine.apply_helpers import instances, many_machines
from tests.engine.incus_helpers import isolate_host
from tests.engine.nft_helpers import infra_from

# POST /1.0/instances with start, its wait; POST exec of the context files, its wait. Their record, the
# project's GET and PUT, is the same for one new machine or two.
PER_NEW_MACHINE = 4
# Plan: projects, instances, profiles, images, the domain's bridge; at the end: networks and instances.
NO_OP = 7


@pytest.mark.anyio
async def test_each_new_machine_costs_one_create_and_start_and_a_no_op_apply_a_fixed_count(
    incusd, tmp_path, monkeypatch
):
    isolate_host(tmp_path, monkeypatch)
    monkeypatch.setenv("ANKLUME_NFT_NETNS", f"/proc/{incusd.pid}/ns/net")
    monkeypatch.setenv("ANKLUME_NFT_PERSIST_DIR", str(tmp_path / "persist"))
    (tmp_path / "persist").mkdir()
    state = tmp_path / "state"

    async def requests_of_apply(client: IncusClient, per_domain: int) -> int:
        infra = infra_from(many_machines(1, per_domain), tmp_path)
        before = client.requests
        result = await apply(client, infra, state_dir=state)
        assert result.ok, [o.error for o in result.of("failed")]
        return client.requests - before

    try:
        async with IncusClient(incusd.url) as client:
            await requests_of_apply(client, 1)
            no_op_small = await requests_of_apply(client, 1)
            one_new = await requests_of_apply(client, 2)
            two_new = await requests_of_apply(client, 4)
            no_op_large = await requests_of_apply(client, 4)
    finally:
        incusd.nsenter("nft", "delete", "table", "inet", "anklume", check=False)

    assert two_new - one_new == PER_NEW_MACHINE
    assert no_op_small == no_op_large == NO_OP
    found = instances(incusd)
    assert sorted(name for _, name in found) == ["d0-m00", "d0-m01", "d0-m02", "d0-m03"]
    assert {i["status"] for i in found.values()} == {"Running"}
    for _, name in found:
        listed = incusd.incus("exec", name, "--project=d0", "--", "ls", "/etc/anklume").stdout.split()
        assert "absolute_level" in listed
