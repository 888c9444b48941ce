"""The loader: values, locations, the directory form, and every kind of bad input as a located finding."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from anklume_tui.psot.load import discover_infra, load_infra

VALID = """\
project_name: demo
global: {}
domains:
  pro:
    subnet_id: 1
    machines:
      pro-dev:
        ip: 10.100.1.5
"""


def write(tmp_path: Path, text: str | bytes, name: str = "infra.yml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def rules(loaded) -> list[str]:
    return [f.rule for f in loaded.findings]


def test_values_resolve_as_yaml_1_1(tmp_path):
    loaded = load_infra(write(tmp_path, "a: yes\nb: off\nc: 010\nd: '010'\ne: ~\n"))
    assert loaded.data == {"a": True, "b": False, "c": 8, "d": "010", "e": None}


def test_every_value_and_key_has_its_line_and_column(tmp_path):
    loaded = load_infra(write(tmp_path, VALID))
    ip = loaded.source.at(("domains", "pro", "machines", "pro-dev", "ip"))
    assert (ip.line, ip.column) == (8, 13)
    key = loaded.source.key_at(("domains", "pro", "subnet_id"))
    assert (key.line, key.column) == (5, 5)
    assert loaded.source.at(("domains", "pro", "machines", "pro-dev", "nothing")).line == 7


def test_missing_path_is_retried_with_and_without_yml(tmp_path):
    write(tmp_path, VALID)
    assert load_infra(tmp_path / "infra").data["project_name"] == "demo"
    write(tmp_path, VALID, "other")
    assert load_infra(tmp_path / "other.yml").data["project_name"] == "demo"


def test_discovery_prefers_flag_then_env_then_infra_dir_then_file(tmp_path):
    assert discover_infra("x.yml", tmp_path, {"ANKLUME_INFRA": "y"}) == Path("x.yml")
    assert discover_infra(None, tmp_path, {"ANKLUME_INFRA": "y"}) == Path("y")
    assert discover_infra(None, tmp_path, {}) == tmp_path / "infra.yml"
    write(tmp_path, "project_name: x\n", "infra/base.yml")
    assert discover_infra(None, tmp_path, {}) == tmp_path / "infra"


def test_directory_form_merges_domains_in_file_order_and_policies(tmp_path):
    write(tmp_path, "project_name: demo\nglobal: {}\n", "infra/base.yml")
    write(tmp_path, "b:\n  subnet_id: 2\n", "infra/domains/20-b.yml")
    write(tmp_path, "a:\n  subnet_id: 1\n", "infra/domains/10-a.yml")
    write(tmp_path, "network_policies:\n  - from: a\n    to: b\n", "infra/policies.yml")
    loaded = load_infra(tmp_path / "infra")
    assert list(loaded.data["domains"]) == ["a", "b"]
    assert loaded.data["network_policies"] == [{"from": "a", "to": "b"}]
    where = loaded.source.at(("domains", "b", "subnet_id"))
    assert where.file.endswith("20-b.yml") and where.line == 2


def test_directory_form_redefinition_warns_w5_naming_both_files(tmp_path):
    write(tmp_path, "project_name: demo\nglobal: {}\n", "infra/base.yml")
    write(tmp_path, "a:\n  subnet_id: 1\n", "infra/domains/10-a.yml")
    write(tmp_path, "a:\n  subnet_id: 3\n", "infra/domains/20-a.yml")
    loaded = load_infra(tmp_path / "infra")
    (w5,) = [f for f in loaded.findings if f.rule == "W5"]
    assert "10-a.yml" in w5.message and "20-a.yml" in w5.message
    assert loaded.data["domains"]["a"] == {"subnet_id": 3}
    assert loaded.source.at(("domains", "a", "subnet_id")).file.endswith("20-a.yml")


def test_directory_without_base_yml_is_l2(tmp_path):
    (tmp_path / "infra").mkdir()
    assert rules(load_infra(tmp_path / "infra")) == ["L2"]


@pytest.mark.parametrize(
    ("content", "rule", "line"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "L3", 1),
        (b"project_name: caf\xe9\n", "L3", 1),
        (b"a: 1\nb: \x00\n", "L3", 2),
        (b"domains:\n\tpro: {}\n", "L3", 2),
        (b"a: [1, 2\n", "L3", 2),
        (b"a: 1\nb: 2\na: 3\n", "Y1", 3),
        (b"a: !python/object:os.system x\n", "L3", 1),
        (b"a: 1\n---\nb: 2\n", "L3", 2),
    ],
    ids=["binary", "latin-1", "nul", "tab", "unclosed", "duplicate", "foreign-tag", "two-documents"],
)
def test_bad_bytes_are_one_located_finding(tmp_path, content, rule, line):
    loaded = load_infra(write(tmp_path, content))
    assert rules(loaded) == [rule]
    assert loaded.findings[0].location.line == line


def test_duplicate_key_names_both_lines(tmp_path):
    loaded = load_infra(write(tmp_path, "domains:\n  a: {}\n  b: {}\n  a: {}\n"))
    assert loaded.findings[0].message == "duplicate key 'a' (first at line 2, again at line 4)"


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(8):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    loaded = load_infra(write(tmp_path, "\n".join(lines) + "\n"))
    assert time.perf_counter() - start < 2
    assert rules(loaded) == ["L3"] and "alias" in loaded.findings[0].message and loaded.data is None


def test_ten_thousand_levels_of_nesting_is_refused(tmp_path):
    loaded = load_infra(write(tmp_path, "a: " + "[" * 10000 + "]" * 10000 + "\n"))
    assert rules(loaded) == ["L3"] and "nesting" in loaded.findings[0].message


def test_small_aliases_and_merge_keys_still_work(tmp_path):
    text = "base: &base {a: 1, b: 2}\nthing:\n  <<: *base\n  b: 3\n"
    assert load_infra(write(tmp_path, text)).data["thing"] == {"a": 1, "b": 3}


def test_empty_and_comment_only_files_load_as_empty_mappings(tmp_path):
    assert load_infra(write(tmp_path, "")).data == {}
    assert load_infra(write(tmp_path, "# nothing yet\n")).data == {}


def test_symlink_loop_is_l1_with_the_reason(tmp_path):
    os.symlink(tmp_path / "b.yml", tmp_path / "a.yml")
    os.symlink(tmp_path / "a.yml", tmp_path / "b.yml")
    loaded = load_infra(tmp_path / "a.yml")
    assert rules(loaded) == ["L1"] and "symbolic links" in loaded.findings[0].message


def test_unreadable_file_is_l1(tmp_path):
    path = write(tmp_path, VALID)
    if os.geteuid() == 0:
        path = tmp_path / "dir.yml"
        path.mkdir()
        (path / "base.yml").mkdir()  # a directory where base.yml should be a file
    else:
        path.chmod(0)
    loaded = load_infra(path)
    assert loaded.data is None and rules(loaded)[0] in ("L1", "L3")


def test_a_file_just_inside_the_bounds_loads_without_hanging(tmp_path):
    line = "  key{}: value number {} with some padding text, and then some more of it\n"
    body = "".join(line.format(i, i) for i in range(49_000))
    path = write(tmp_path, "project_name: big\nglobal:\n" + body)
    assert path.stat().st_size > 3_800_000  # 98,000 nodes: just inside yaml_bounds.MAX_NODES
    start = time.perf_counter()
    loaded = load_infra(path)
    assert time.perf_counter() - start < 30  # a hang guard; its speed is in benchmarks/
    assert loaded.data["project_name"] == "big"
