"""Enrichment steps 5–6: `sv-*` and `pd-*` devices merged before the user's own (SPEC §3.8, §3.9, §6)."""

from __future__ import annotations

from anklume_tui.psot.gpu import gpu_consumers
from anklume_tui.psot.load import load_infra

from .enrich_helpers import enrich_yaml, machine

INFRA = """\
project_name: demo
global: {addressing: {}}
domains:
  pro:
    trust_level: trusted
    machines:
      pro-dev: {}
      pro-web:
        devices:
          web-port: {type: proxy, listen: "tcp:0.0.0.0:80", connect: "tcp:127.0.0.1:80"}
  perso:
    machines:
      perso-desk: {}
"""


def _with_volumes(volumes: str, infra: str = INFRA) -> str:
    return infra + "shared_volumes:\n" + volumes


def test_domain_consumer_expands_and_machine_entry_overrides(tmp_path):
    text = _with_volumes("  docs:\n    consumers: {pro: ro, pro-dev: rw}\n")
    enriched = enrich_yaml(tmp_path, text)
    assert machine(enriched, "pro", "pro-dev")["devices"] == {
        "sv-docs": {
            "type": "disk",
            "source": "/srv/anklume/shares/docs",
            "path": "/shared/docs",
            "shift": "true",
        }
    }
    assert machine(enriched, "pro", "pro-web")["devices"]["sv-docs"] == {
        "type": "disk",
        "source": "/srv/anklume/shares/docs",
        "path": "/shared/docs",
        "shift": "true",
        "readonly": "true",
    }
    assert "devices" not in machine(enriched, "perso", "perso-desk")


def test_machine_consumer_of_another_domain_gets_the_volume(tmp_path):
    text = _with_volumes("  docs:\n    consumers: {perso-desk: ro}\n")
    enriched = enrich_yaml(tmp_path, text)
    assert machine(enriched, "perso", "perso-desk")["devices"]["sv-docs"]["readonly"] == "true"
    assert "devices" not in machine(enriched, "pro", "pro-dev")


def test_explicit_source_path_and_shift_false(tmp_path):
    text = _with_volumes(
        "  media:\n    source: /data/media\n    path: /mnt/media\n    shift: false\n    consumers: {pro-dev: rw}\n"
    )
    enriched = enrich_yaml(tmp_path, text)
    assert machine(enriched, "pro", "pro-dev")["devices"] == {
        "sv-media": {"type": "disk", "source": "/data/media", "path": "/mnt/media"}
    }


def test_shared_volumes_base_sets_the_default_source(tmp_path):
    infra = INFRA.replace("global: {addressing: {}}", "global: {addressing: {}, shared_volumes_base: /tank/shares}")
    enriched = enrich_yaml(tmp_path, _with_volumes("  docs: {consumers: {pro-dev: rw}}\n", infra))
    assert machine(enriched, "pro", "pro-dev")["devices"]["sv-docs"]["source"] == "/tank/shares/docs"


PERSISTENT = """\
project_name: demo
global: {base_subnet: "10.100", persistent_data_base: /tank/data}
domains:
  pro:
    subnet_id: 2
    machines:
      pro-db:
        persistent_data:
          pg: {path: /var/lib/postgresql}
          keys: {path: /etc/keys, readonly: true}
"""


def test_persistent_data_becomes_pd_devices_with_optional_readonly(tmp_path):
    devices = machine(enrich_yaml(tmp_path, PERSISTENT), "pro", "pro-db")["devices"]
    assert devices == {
        "pd-pg": {
            "type": "disk",
            "source": "/tank/data/pro/pro-db/pg",
            "path": "/var/lib/postgresql",
            "shift": "true",
        },
        "pd-keys": {
            "type": "disk",
            "source": "/tank/data/pro/pro-db/keys",
            "path": "/etc/keys",
            "shift": "true",
            "readonly": "true",
        },
    }


def test_persistent_data_base_defaults_to_srv_anklume_data(tmp_path):
    text = PERSISTENT.replace(", persistent_data_base: /tank/data", "")
    devices = machine(enrich_yaml(tmp_path, text), "pro", "pro-db")["devices"]
    assert devices["pd-pg"]["source"] == "/srv/anklume/data/pro/pro-db/pg"


def test_devices_merge_shared_then_persistent_then_user(tmp_path):
    text = (
        PERSISTENT.replace("      pro-db:\n", "      pro-db:\n        devices:\n          gpu0: {type: gpu}\n")
        + "shared_volumes:\n  docs: {consumers: {pro: ro}}\n"
    )
    devices = machine(enrich_yaml(tmp_path, text), "pro", "pro-db")["devices"]
    assert list(devices) == ["sv-docs", "pd-pg", "pd-keys", "gpu0"]
    assert devices["gpu0"] == {"type": "gpu"}


def test_user_devices_stay_as_written_when_nothing_is_generated(tmp_path):
    enriched = enrich_yaml(tmp_path, INFRA)
    assert list(machine(enriched, "pro", "pro-web")["devices"]) == ["web-port"]
    assert "devices" not in machine(enriched, "pro", "pro-dev")


GPU_INFRA = """\
project_name: demo
global: {addressing: {}}
domains:
  ai-tools:
    profiles:
      nvidia: {devices: {gpu: {type: gpu, gputype: physical}}}
      plain: {config: {limits.cpu: "2"}}
    machines:
      ai-ollama: {profiles: [default, nvidia]}
      ai-webui: {profiles: [plain]}
  lab:
    enabled: false
    machines:
      lab-cuda: {gpu: true}
      lab-cpu: {gpu: false, profiles: [nvidia]}
"""


def test_gpu_consumers_count_gpu_true_and_gpu_profiles_of_the_same_domain(tmp_path):
    path = tmp_path / "infra.yml"
    path.write_text(GPU_INFRA)
    assert gpu_consumers(load_infra(path).data) == [("ai-tools", "ai-ollama"), ("lab", "lab-cuda")]


def test_gpu_consumers_tolerate_malformed_data():
    assert gpu_consumers({"domains": {"a": None, "b": {"machines": {"m": "x", "n": {"profiles": [["x"]]}}}}}) == []
    assert gpu_consumers({"domains": None}) == []
