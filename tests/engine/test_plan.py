"""compute_plan without a daemon: desired state against hand-built real states."""

from __future__ import annotations

from anklume_tui.engine.incus.models import Image, ImageAliasRef, Instance, Network, Profile, Project
from anklume_tui.engine.reconcile.desired import CONTEXT_KEY, desired_state
from anklume_tui.engine.reconcile.plan import compute_plan
from anklume_tui.engine.reconcile.real_state import RealState
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot

INFRA = """\
project_name: t
global:
  addressing: {}
  default_os_image: busybox
  gpu_policy: shared
domains:
  work:
    trust_level: trusted
    profiles:
      nvidia:
        devices:
          gpu0: {type: gpu}
    machines:
      work-dev:
        gpu: true
        devices:
          cache: {type: disk, source: /srv/cache, path: /cache, readonly: true}
      work-gpu:
        gpu: true
        devices:
          mygpu: {type: gpu, id: "0"}
      work-vm:
        type: vm
  lab:
    machines:
      lab-box: {}
"""


def infra(tmp_path, text=INFRA, ctx=None):
    path = tmp_path / "infra.yml"
    path.write_text(text)
    result = run_psot(path, ctx or HostContext(skip_subnet_check=True))
    assert result.valid, [f.render() for f in result.findings]
    return result.infra


def converged(desired) -> RealState:
    """What Incus holds after a successful apply of `desired`."""
    real = RealState()
    real.projects = {p.name: Project(name=p.name, description=p.description, config=p.config) for p in desired.projects}
    real.networks = {n.name: Network(name=n.name, config=n.config) for n in desired.networks}
    for pr in desired.profiles:
        real.profiles[(pr.project, pr.name)] = Profile(
            name=pr.name, project=pr.project, config=pr.config, devices=pr.devices
        )
    for img in desired.images:
        real.images.setdefault(img.project, []).append(
            Image(fingerprint="f" * 64, aliases=[ImageAliasRef(name=img.alias)], project=img.project)
        )
    for exp in desired.instances:
        real.instances[(exp.project, exp.name)] = Instance(
            name=exp.name,
            project=exp.project,
            type=exp.type,
            status="Running",
            profiles=exp.profiles,
            config=exp.config,
            devices=exp.devices,
        )
    return real


def test_a_converged_system_plans_no_action(tmp_path):
    desired = desired_state(infra(tmp_path))
    plan = compute_plan(desired, converged(desired))
    assert plan.actions == [] and plan.drift == [] and plan.orphans == []


def test_an_empty_incus_plans_everything_in_spec_order(tmp_path):
    desired = desired_state(infra(tmp_path))
    real = RealState(images={"default": [Image(fingerprint="a" * 64, aliases=[ImageAliasRef(name="busybox")])]})
    plan = compute_plan(desired, real)
    kinds = [a.kind for a in plan.actions]
    order = {"project": 0, "network": 1, "profile": 2, "image": 3, "instance": 4}
    assert kinds == sorted(kinds, key=order.__getitem__)
    assert ("copy", "image", "work", "busybox") in [(a.op, a.kind, a.project, a.name) for a in plan.actions]


def test_extra_keys_and_devices_in_incus_are_not_drift(tmp_path):
    desired = desired_state(infra(tmp_path))
    real = converged(desired)
    inst = real.instances[("lab", "lab-box")]
    inst.config["user.mine"] = "x"
    inst.devices["extra"] = {"type": "disk", "source": "/tmp", "path": "/tmp"}
    real.networks["net-lab"].config["dns.domain"] = "lab"
    assert compute_plan(desired, real).actions == []


def test_gpu_true_adds_a_gpu_device_unless_the_user_declared_one(tmp_path):
    desired = desired_state(infra(tmp_path))
    by_name = {e.name: e for e in desired.instances}
    assert by_name["work-dev"].devices["gpu"] == {"type": "gpu"}
    assert by_name["work-dev"].devices["cache"]["readonly"] == "true"  # values are written as strings
    assert "gpu" not in by_name["work-gpu"].devices and by_name["work-gpu"].devices["mygpu"]["type"] == "gpu"


def test_a_vm_machine_is_created_as_a_virtual_machine(tmp_path):
    desired = desired_state(infra(tmp_path))
    plan = compute_plan(desired, RealState())
    create = next(a for a in plan.actions if a.name == "work-vm")
    assert create.changes["type"] == "virtual-machine"
    context = create.changes["context"]["files"]
    assert context["relative_level"] == "0\n" and context["vm_nested"] == "true\n"


def test_declared_key_changed_in_incus_is_field_level_drift(tmp_path):
    desired = desired_state(infra(tmp_path))
    real = converged(desired)
    real.instances[("lab", "lab-box")].config["security.protection.delete"] = "false"
    real.instances[("lab", "lab-box")].devices["eth0"]["ipv4.address"] = "10.120.0.9"
    plan = compute_plan(desired, real)
    fields = {(d.name, d.field): (d.expected, d.actual) for d in plan.drift}
    assert fields[("lab-box", "config.security.protection.delete")] == ("true", "false")
    assert fields[("lab-box", "devices.eth0")][1]["ipv4.address"] == "10.120.0.9"
    (action,) = plan.actions
    assert action.op == "update" and action.changes["restart"] is True
    assert action.changes["devices"]["eth0"]["ipv4.address"] == "10.120.0.1"


def test_orphans_are_this_infras_tagged_instances_of_tagged_projects_except_disposables(tmp_path):
    desired = desired_state(infra(tmp_path))
    real = converged(desired)
    tag = {"user.anklume.managed": "true", "user.anklume.infra": "t"}
    real.projects["other"] = Project(name="other", config={})
    by_profile = {"security.protection.delete": "Yes"}  # Incus's truth values, set through a profile
    extra = [
        Instance(name="stray", project="lab", config=dict(tag), status="Running"),
        Instance(name="guarded", project="lab", config={**tag, "security.protection.delete": "1"}),
        Instance(name="locked", project="lab", config=dict(tag), expanded_config={**tag, **by_profile}),
        Instance(name="untagged", project="lab", config={}),
        Instance(name="theirs", project="lab", config={**tag, "user.anklume.infra": "other-lab"}),
        Instance(name="before-tags", project="lab", config={"user.anklume.managed": "true"}),
        Instance(name="disp-20260101-000000", project="lab", config=dict(tag), ephemeral=True),
        Instance(name="elsewhere", project="other", config=dict(tag)),
    ]
    for inst in extra:
        real.instances[(inst.project, inst.name)] = inst
    plan = compute_plan(desired, real)
    orphans = [(o.name, o.protected) for o in plan.orphans]
    assert orphans == [("guarded", True), ("locked", True), ("stray", False)]
    assert plan.actions == []
    pruned = compute_plan(desired, real, prune=True)
    assert [(a.op, a.name) for a in pruned.actions] == [("delete", "stray")]
    assert [o.name for o in pruned.refused] == ["guarded", "locked"]
    assert "through its profiles" in pruned.refused[1].reason


def test_objects_without_the_infra_tag_are_adopted_and_another_infras_are_conflicts(tmp_path):
    desired = desired_state(infra(tmp_path))
    real = converged(desired)
    made_before = (real.projects["lab"], real.networks["net-lab"], real.instance("lab", "lab-box"))
    for config in (o.config for o in made_before):
        del config["user.anklume.infra"]  # made before objects carried their infra
    real.instance("work", "work-dev").config["user.anklume.infra"] = "other-lab"
    plan = compute_plan(desired, real)
    ops = {(a.op, a.kind, a.name) for a in plan.actions}
    assert ops == {
        ("update", "project", "lab"),
        ("update", "network", "net-lab"),
        ("update", "instance", "lab-box"),
        ("conflict", "instance", "work-dev"),
    }
    adopted = {(d.name, d.field, d.expected, d.actual) for d in plan.drift}
    assert ("lab-box", "config.user.anklume.infra", "t", None) in adopted
    conflict = next(a for a in plan.actions if a.op == "conflict")
    assert "belongs to infra 'other-lab'" in conflict.detail


def test_remote_image_missing_locally_is_a_download_and_a_missing_local_alias_is_named(tmp_path):
    text = INFRA.replace("default_os_image: busybox", 'default_os_image: "images:debian/13"')
    text = text.replace("      lab-box: {}", "      lab-box: {os_image: nowhere}")
    desired = desired_state(infra(tmp_path, text))
    plan = compute_plan(desired, RealState())
    images = {(a.project, a.name): a for a in plan.of_kind("image")}
    assert images[("work", "images:debian/13")].op == "download"
    assert images[("lab", "nowhere")].op == "missing" and "'nowhere'" in images[("lab", "nowhere")].detail


def test_limit_keeps_one_domain(tmp_path):
    desired = desired_state(infra(tmp_path), limit="lab")
    plan = compute_plan(desired, RealState(), limit="lab")
    assert {a.domain for a in plan.actions} == {"lab"}


def test_nesting_prefix_names_projects_bridges_and_instances(tmp_path):
    model = infra(tmp_path, ctx=HostContext(absolute_level=1, skip_subnet_check=True))
    desired = desired_state(model, host=HostContext(absolute_level=1))
    assert [p.name for p in desired.projects] == ["001-work", "001-lab"]
    assert desired.networks[0].name == "001-net-work"
    assert desired.instances[0].name == "001-work-dev"
    assert desired.instances[0].config[CONTEXT_KEY].startswith("absolute_level=2 ")
