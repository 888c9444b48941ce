"""Whatever a user writes, the pipeline answers with findings or a model: never an exception."""

from __future__ import annotations

import copy
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.generate import render_files
from anklume_tui.psot.load import LoadedInfra, load_infra
from anklume_tui.psot.pipeline import check_loaded

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASES = [load_infra(EXAMPLES / name / "infra.yml") for name in ("pro-workstation", "developer", "ai-tools")]
CTX = HostContext(host_cpus=8.0, host_memory_bytes=32 * 2**30, vm_nested=False)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.floats(allow_nan=False),
    st.sampled_from(["", "x", "10.100.0.1", "true", "all", "lxc", "vm", "default", "/abs", "rel", "gpu", "1GiB"]),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, prefix + (i,))


def replaced(data, path, value):
    data = copy.deepcopy(data)
    if not path:
        return value
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(BASES), pick=st.integers(0, 10_000), value=values)
def test_any_single_change_gives_findings_or_a_renderable_model(base, pick, value):
    all_paths = list(paths(base.data))
    path = all_paths[pick % len(all_paths)]
    loaded = LoadedInfra(base.path, replaced(base.data, path, value), base.source, [])
    result = check_loaded(loaded, CTX)
    if result.valid:
        assert result.infra is not None
        render_files(result.infra)
