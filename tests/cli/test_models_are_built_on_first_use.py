"""The reports, the Incus models and the plan's models build their validators when first used, not when their
modules are imported (pydantic's defer_build, issue 17): a verb imports modules holding dozens of models and uses
a few. Checked in a fresh interpreter: nothing built on import, a model built (and validating) once used."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import json
from pydantic import BaseModel
from anklume_tui.engine.incus import models as incus_models
from anklume_tui.engine.reconcile import plan_models
from anklume_tui.reports import base, reconcile

def ours(module):
    return [v for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == module.__name__]

modules = (base, reconcile, incus_models, plan_models)
before = sorted(m.__name__ for module in modules for m in ours(module) if m.__pydantic_complete__)
plan = plan_models.Plan(prune=True)
try:
    plan_models.Plan(prune="maybe")
    refused = False
except Exception:
    refused = True
print(json.dumps({"built_on_import": before, "counted": sum(len(ours(m)) for m in modules),
                  "plan_built": plan_models.Plan.__pydantic_complete__, "refused": refused,
                  "others_still_unbuilt": not reconcile.ApplyReport.__pydantic_complete__}))
"""


def test_models_are_built_when_first_used_not_when_imported():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60, check=True)
    seen = json.loads(done.stdout)
    assert seen["counted"] > 30
    assert seen["built_on_import"] == []
    assert seen["plan_built"] is True and seen["refused"] is True
    assert seen["others_still_unbuilt"] is True
