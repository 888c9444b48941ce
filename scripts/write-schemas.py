"""Write the JSON Schema of every --json document, and of the generated inventory's variables, into
anklume_tui/schemas/ (run after changing reports or psot/inventory_contract.py)."""

from __future__ import annotations

import json
from pathlib import Path

from anklume_tui.psot.inventory_contract import INVENTORY_VERSION, InventoryVars
from anklume_tui.reports import SCHEMA_VERSION, SCHEMAS

OUT = Path(__file__).resolve().parent.parent / "anklume_tui" / "schemas"


def schema_text(model) -> str:
    schema = model.model_json_schema()
    schema["$id"] = f"anklume-tui/{model.__name__}/v{SCHEMA_VERSION}"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for verb, model in SCHEMAS.items():
        (OUT / f"{verb}.json").write_text(schema_text(model))
        print(f"wrote {OUT / f'{verb}.json'}")
    # The generated Ansible tree's variables: versioned by anklume_inventory_version, not by SCHEMA_VERSION.
    schema = InventoryVars.model_json_schema()
    schema["$id"] = f"anklume-tui/InventoryVars/v{INVENTORY_VERSION}"
    (OUT / "inventory.json").write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    print(f"wrote {OUT / 'inventory.json'}")
