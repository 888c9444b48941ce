"""The directory form (base.yml + domains/*.yml + policies.yml) generates exactly what one file does."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.generate import render_files
from anklume_tui.psot.pipeline import run_psot
from anklume_tui.psot.yaml_emit import emit

CTX = HostContext(skip_subnet_check=True)
TRUST = ["admin", "trusted", "semi-trusted", "untrusted", "disposable"]


@st.composite
def infras(draw):
    names = draw(st.lists(st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True), min_size=1, max_size=6, unique=True))
    domains = {}
    for name in names:
        machines = {f"{name}-m{i}": {"type": "lxc"} for i in range(draw(st.integers(0, 4)))}
        domain = {"trust_level": draw(st.sampled_from(TRUST)), "machines": machines}
        if draw(st.booleans()):
            domain["description"] = draw(st.text(min_size=0, max_size=12))
        domains[name] = domain
    policies = []
    if len(names) > 1 and draw(st.booleans()):
        policies.append({"from": names[0], "to": names[1], "ports": [22]})
    return {"project_name": "p", "global": {"addressing": {}}, "domains": domains}, policies


def generated(path: Path) -> dict[str, str]:
    result = run_psot(path, CTX)
    assert result.valid, [f.render() for f in result.findings if f.is_error]
    return render_files(result.infra)


@settings(max_examples=60, deadline=None)
@given(infras(), st.integers(1, 3))
def test_directory_form_equals_single_file(infra_and_policies, files):
    infra, policies = infra_and_policies
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        single = dict(infra, **({"network_policies": policies} if policies else {}))
        (root / "infra.yml").write_text(emit(single))
        base = root / "infra"
        (base / "domains").mkdir(parents=True)
        (base / "base.yml").write_text(emit({"project_name": "p", "global": infra["global"]}))
        names = list(infra["domains"])
        chunk = -(-len(names) // files)
        for i in range(0, len(names), chunk):
            part = {n: infra["domains"][n] for n in names[i : i + chunk]}
            (base / "domains" / f"{i:03d}.yml").write_text(emit(part))
        if policies:
            (base / "policies.yml").write_text(emit({"network_policies": policies}))
        assert generated(base) == generated(root / "infra.yml")
