"""W10: a machine names a role found in no role folder. psot reads no folder: the roles found are handed in
with the host context (`HostContext.known_roles`), as the engine gathers them."""

from __future__ import annotations

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import check_loaded
from anklume_tui.psot.validate import collect_warnings

from .psot_helpers import assert_flags, infra, load_text, of_rule

KNOWN = HostContext(known_roles=frozenset({"base_system", "docker_engine", "code_sandbox", "my_role"}))

TYPO = infra(
    domains="""\
    pro:
      subnet_id: 1
      machines:
        pro-dev:
          ip: 10.100.1.10
          roles:
            - docker_engine
            - code_sandbo  # <-
            - my_role
    """
)


def w10(tmp_path, text: str, ctx: HostContext = KNOWN):
    loaded = load_text(tmp_path, text)
    return of_rule(collect_warnings(loaded.data, loaded.source, ctx), "W10")


def test_role_in_no_role_folder_is_a_warning_on_its_list_entry_with_the_closest_known_role(tmp_path):
    found = assert_flags(w10(tmp_path, TYPO), "W10", "warning", TYPO)
    entry = next(line for line in TYPO.splitlines() if "code_sandbo " in line)
    assert found.location is not None and found.location.column == entry.index("code_sandbo") + 1  # the entry
    assert "Machine 'pro-dev' names role 'code_sandbo', found in no role folder" in found.message
    assert found.message.endswith("did you mean 'code_sandbox'?")
    assert len(w10(tmp_path, TYPO)) == 1  # the known roles around it are not named


def test_every_role_found_raises_no_warning(tmp_path):
    assert w10(tmp_path, TYPO.replace("code_sandbo ", "code_sandbox ")) == []


def test_a_role_like_no_known_one_gets_no_suggestion(tmp_path):
    [found] = w10(tmp_path, TYPO.replace("code_sandbo ", "zzz "))
    assert "'zzz'" in found.message and "did you mean" not in found.message


def test_roles_not_gathered_are_not_checked(tmp_path):
    """A caller that did not look at the role folders (known_roles None) gets no W10 at all."""
    assert w10(tmp_path, TYPO, HostContext()) == []


def test_the_warning_never_blocks_the_infra(tmp_path):
    result = check_loaded(load_text(tmp_path, TYPO), KNOWN)
    assert result.valid and result.infra is not None
    assert [f.rule for f in result.findings if f.rule == "W10"] == ["W10"]
