"""`apply` with nothing to change but orphans says which and how to prune them (issue 16 point 5), instead
of only "Nothing to do: 0 actions"."""

from __future__ import annotations

from anklume_tui.engine.reconcile import Orphan, Plan
from anklume_tui.engine.reconcile.apply import ApplyResult
from anklume_tui.verbs.apply import print_result

ORPHANS = [
    Orphan(project="work", name="old-box", protected=False, status="Running"),
    Orphan(project="work", name="kept-box", protected=True, reason="security.protection.delete=true"),
]


def test_apply_with_only_orphans_names_each_and_the_prune_command(capsys):
    print_result(ApplyResult(plan=Plan(orphans=ORPHANS)))
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "orphan: work/old-box: no machine declares it; `anklume-tui --batch apply --prune --yes` deletes it",
        "orphan: work/kept-box: no machine declares it; protected, never deleted (security.protection.delete=true)",
        "Nothing to do: 0 actions; 2 orphan(s) left (above).",
    ]


def test_apply_with_prune_does_not_offer_prune_again(capsys):
    print_result(ApplyResult(plan=Plan(orphans=ORPHANS[1:], prune=True)))
    out = capsys.readouterr().out
    assert "orphan:" not in out and "--prune" not in out
    assert out.splitlines()[-1] == "Nothing to do: 0 actions."
