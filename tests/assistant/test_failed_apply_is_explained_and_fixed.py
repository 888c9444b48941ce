"""An apply failure is explained too: Incus refuses a machine's config value the infra passes through; explain
LAST reads the last apply's journal (its failed action and Incus's error, the machine's infra lines with
file:line), the stand-in's patch to infra.yml is validated by psot and saved, and apply is re-run and passes
(the instance and its value read back with the incus CLI)."""

from __future__ import annotations

import json

from tests.assistant.model_standin_helpers import configure, model_standin
from tests.assistant.test_failed_provisioning_is_explained_and_fixed import explain
from tests.provision.provision_helpers import anklume

LAB = """\
project_name: explainapply
global:
  addressing: {}
  default_os_image: busybox
domains:
  work:
    machines:
      work-box:
        config:
          limits.memory: banana
"""

FIX = """\
--- a/infra.yml
+++ b/infra.yml
@@ -8,3 +8,3 @@
       work-box:
         config:
-          limits.memory: banana
+          limits.memory: 64MiB
"""


def test_a_failed_apply_is_explained_patched_in_the_infra_and_applied_again(incusd, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(LAB)
    failed = anklume(incusd, tmp_path, "apply", infra, "--no-provision")
    assert failed.returncode == 1, failed.stdout + failed.stderr

    with model_standin() as standin:
        standin.answer = f"`banana` is not a size: Incus wants bytes with a unit.\n```diff\n{FIX}```\n"
        configure(tmp_path / "config", standin.config("openai"))
        shown = explain(incusd, tmp_path, infra, "--json")
        assert shown.returncode == 0, shown.stderr
        document = json.loads(shown.stdout)
        assert document["failure"]["task"] == "create instance work-box"
        assert document["failure"]["domain"] == "work" and document["failure"]["message"]
        assert "Step: apply (Incus" in document["prompt"]
        assert "infra.yml:10:           limits.memory: banana" in document["prompt"]
        assert standin.requests == []

        fixed = explain(incusd, tmp_path, infra, "--send", "--apply")
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert len(standin.requests) == 1 and "the step passed" in fixed.stdout
    assert "limits.memory: 64MiB" in infra.read_text()
    memory = incusd.incus("config", "get", "work-box", "limits.memory", "--project=work", check=False)
    assert memory.stdout.strip() == "64MiB", memory.stderr
