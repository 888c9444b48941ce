"""The generated Ansible tree carries `anklume_inventory_version` and matches the shipped JSON Schema of its
variables (schemas/inventory.json) for every example."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from anklume_tui.cli import main
from anklume_tui.psot.generate import MANAGED_BEGIN, MANAGED_END
from anklume_tui.psot.inventory_contract import INVENTORY_VERSION, InventoryVars

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "anklume_tui" / "schemas" / "inventory.json"
EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/README.md"))


class _Loader(yaml.SafeLoader):
    """Reads the `!unsafe` tag the generator writes on values Ansible could template, as the plain value."""


def _unsafe(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    node = type(node)(tag=loader.resolve(type(node), node.value, (True, False)), value=node.value)
    return loader.construct_object(node, deep=True)


_Loader.add_constructor("!unsafe", _unsafe)


def _managed(path: Path) -> Any:
    text = path.read_text()
    section = text[text.index(MANAGED_BEGIN) : text.index(MANAGED_END)]
    return yaml.load(section, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def _tree_vars(out: Path) -> dict[str, Any]:
    """The variables of a generated tree, keyed as InventoryVars keys them."""

    def folder(name: str) -> dict[str, Any]:
        return {p.stem: _managed(p) for p in sorted((out / name).glob("*.yml")) if p.name != "all.yml"}

    return {
        "all": _managed(out / "group_vars" / "all.yml"),
        "groups": folder("group_vars"),
        "hosts": folder("host_vars"),
        "inventories": folder("inventory"),
    }


def _infra(example: Path) -> Path:
    return example / "infra.yml" if (example / "infra.yml").exists() else example / "infra"


def test_committed_inventory_schema_matches_the_contract_model():
    schema = InventoryVars.model_json_schema()
    schema["$id"] = f"anklume-tui/InventoryVars/v{INVENTORY_VERSION}"
    assert json.loads(SCHEMA.read_text()) == schema, "run scripts/write-schemas.py"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_generates_a_versioned_inventory_the_schema_accepts(example, tmp_path, capsys):
    assert main(["--batch", "sync", "--infra", str(_infra(example)), "--out", str(tmp_path)]) == 0
    found = _tree_vars(tmp_path)
    assert found["all"]["anklume_inventory_version"] == INVENTORY_VERSION
    assert isinstance(found["all"]["anklume_inventory_version"], int)
    assert found["hosts"], "every example declares machines"
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(found)


def test_the_schema_refuses_a_tree_without_its_version_or_with_an_unknown_managed_key(tmp_path, capsys):
    assert (
        main(["--batch", "sync", "--infra", str(_infra(ROOT / "examples" / "swarm-lab")), "--out", str(tmp_path)]) == 0
    )
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    found = _tree_vars(tmp_path)
    del found["all"]["anklume_inventory_version"]
    assert any("anklume_inventory_version" in e.message for e in validator.iter_errors(found))
    found = _tree_vars(tmp_path)
    next(iter(found["hosts"].values()))["instance_colour"] = "red"
    assert not validator.is_valid(found)
