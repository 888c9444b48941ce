"""Property: syncing twice changes nothing, whatever the infra and the hand-edited files."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anklume_tui.psot.generate import merge_managed, sync_tree

from .generate_helpers import infra_of

names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
texts = st.text(max_size=12) | st.sampled_from(["yes", "010", "1:20", "~", "", " x", "#c", "- x", "a\nb"])
config_values = texts | st.integers(0, 99) | st.booleans()


@st.composite
def enriched_infras(draw):
    domain_names = draw(st.lists(names, min_size=0, max_size=4, unique=True))
    machine_names = iter(draw(st.lists(names, min_size=12, max_size=12, unique=True)))
    domains = {}
    for index, name in enumerate(domain_names):
        machines = {}
        for _ in range(draw(st.integers(0, 3))):
            machine = {
                "description": draw(texts),
                "config": draw(st.dictionaries(texts, config_values, max_size=3)),
            }
            if draw(st.booleans()):
                machine["ip"] = f"10.100.{index}.{len(machines) + 1}"
            if draw(st.booleans()):
                machine["os_image"] = draw(texts)
            machines[f"{name}-{next(machine_names)}"] = machine
        domains[name] = {
            "subnet_id": index,
            "description": draw(texts),
            "enabled": draw(st.booleans()),
            "ephemeral": draw(st.booleans()),
            "machines": machines,
        }
    return {"project_name": draw(texts), "global": {"default_os_image": draw(texts)}, "domains": domains}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(enriched_infras(), st.sampled_from(["", "001-"]))
def test_second_sync_writes_nothing(data, prefix):
    infra = infra_of(data, prefix)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sync_tree(root, infra, dry_run=False, clean_orphans=False)
        before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
        again = sync_tree(root, infra, dry_run=False, clean_orphans=False)
        assert again.written == []
        assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


lines = st.sampled_from(
    [
        "---",
        "--- # x",
        "# === MANAGED BY infra.yml ===",
        "# === END MANAGED ===",
        "a: 1",
        "",
        "# note",
        "x",
    ]
)


@settings(max_examples=300)
@given(st.lists(lines, max_size=8), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_merging_twice_gives_the_same_text(file_lines, newline, final_newline):
    existing = newline.join(file_lines) + (newline if final_newline else "")
    once = merge_managed(existing, "k: v\n")
    assert merge_managed(once, "k: v\n") == once
