"""Hostile YAML (issue 15, point 7): every bound holds before anything is composed, as one located finding, fast.

Depth and node count are checked on libyaml's events; only regular files are read, and never past a size bound.
The same bounds guard the directory form (one budget for all its files), the edit forms' reads, the TUI's
outline, and restore's index.yaml.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.infra_candidate import save, validate_candidate
from anklume_tui.psot.infra_edit import EditRefused, read_infra_files
from anklume_tui.psot.load import load_infra
from anklume_tui.psot.outline import outline
from anklume_tui.psot.yaml_bounds import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    UnreadableInput,
    read_bounded,
    safe_load_bounded,
)
from anklume_tui.psot.yaml_nodes import parse_yaml

HEAD = "project_name: x\nglobal: {}\ndomains: {}\n"
DEEP_FLOW = "project_name: " + "[" * 50_000 + "]" * 50_000 + "\n"  # the 100 KB file
DEEP_BLOCK = "project_name:\n" + "".join(" " * i + "-\n" for i in range(2_000))
MANY_SCALARS = HEAD + "extra: [" + ",".join(["1"] * 2_000_000) + "]\n"  # 4 MB


def quickly(call: Callable[[], object], seconds: float = 1.0) -> object:
    """The call's result, asserting it used under `seconds` of CPU and returned (a blocked read fails)."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:  # re-raised below, in the test's thread
            outcome.append(exc)

    start = time.process_time()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "blocked"
    assert time.process_time() - start < seconds
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    return outcome[0]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.fixture
def fifo(tmp_path):
    """A FIFO nobody writes to; released at the end so that a read that did block comes back."""
    made: list[Path] = []

    def make(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        made.append(path)
        return path

    yield make
    for path in made:
        with contextlib.suppress(OSError):  # no reader waiting: nothing blocked
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def only_finding(loaded):
    assert loaded.data is None and len(loaded.findings) == 1, loaded.findings
    return loaded.findings[0]


def test_fifty_thousand_nested_flow_lists_are_l3_at_the_first_level_too_deep(tmp_path):
    finding = only_finding(quickly(lambda: load_infra(write(tmp_path / "infra.yml", DEEP_FLOW))))
    assert finding.rule == "L3" and f"deeper than {MAX_DEPTH} levels" in finding.message
    assert finding.location.line == 1 and finding.location.column > MAX_DEPTH  # where libyaml noticed


def test_deep_block_nesting_is_l3_at_its_line(tmp_path):
    finding = only_finding(quickly(lambda: load_infra(write(tmp_path / "infra.yml", DEEP_BLOCK))))
    # the root mapping is the first level, so the sequence on line MAX_DEPTH + 1 is one too many
    assert finding.rule == "L3" and "deeper" in finding.message and finding.location.line == MAX_DEPTH + 1


def test_two_million_scalars_are_l3_at_the_first_node_past_the_bound(tmp_path):
    finding = only_finding(quickly(lambda: load_infra(write(tmp_path / "infra.yml", MANY_SCALARS))))
    assert finding.rule == "L3" and f"more than {MAX_NODES} YAML nodes" in finding.message
    assert finding.location.line == 4 and finding.location.column > 100_000


def test_a_huge_file_is_refused_from_its_size_without_reading_it(tmp_path):
    path = tmp_path / "infra.yml"
    with path.open("wb") as sparse:
        sparse.truncate(4 * 1024**3)  # 4 GiB, no block written
    finding = only_finding(quickly(lambda: load_infra(path)))
    assert finding.rule == "L3" and "larger than 8 MiB" in finding.message and str(finding.location) == f"{path}:1:1"


def test_one_byte_past_the_size_bound_is_refused(tmp_path):
    path = write(tmp_path / "infra.yml", HEAD + "#" * (MAX_BYTES - len(HEAD) + 1))
    assert only_finding(quickly(lambda: load_infra(path))).rule == "L3"


def test_a_fifo_is_l1_and_is_not_opened_for_reading(tmp_path, fifo):
    path = fifo(tmp_path / "infra.yml")
    finding = only_finding(quickly(lambda: load_infra(path)))
    assert finding.rule == "L1" and "not a regular file (a FIFO)" in finding.message
    assert str(finding.location) == f"{path}:1:1"


def test_dev_zero_is_l1_a_character_device():
    finding = only_finding(quickly(lambda: load_infra(Path("/dev/zero"))))
    assert finding.rule == "L1" and "(a character device)" in finding.message


@pytest.mark.parametrize("name", ["base.yml", "domains/b.yml", "policies.yml"])
def test_directory_form_with_a_fifo_among_its_files_is_l1_at_that_file(tmp_path, fifo, name):
    if name != "base.yml":
        write(tmp_path / "infra" / "base.yml", HEAD)
    write(tmp_path / "infra" / "domains" / "a.yml", "a: {subnet_id: 1}\n")
    path = fifo(tmp_path / "infra" / name)
    loaded = quickly(lambda: load_infra(tmp_path / "infra"))
    errors = [f for f in loaded.findings if f.is_error]
    assert [(f.rule, f.location.file) for f in errors] == [("L1", str(path))], loaded.findings


def test_directory_form_files_share_one_node_budget(tmp_path):
    half = "".join(f"k{i}: v\n" for i in range(MAX_NODES // 3))  # two nodes a line: 2/3 of the bound a file
    write(tmp_path / "infra" / "base.yml", HEAD)
    write(tmp_path / "infra" / "domains" / "a.yml", half)
    write(tmp_path / "infra" / "domains" / "b.yml", half)
    loaded = quickly(lambda: load_infra(tmp_path / "infra"))
    (finding,) = [f for f in loaded.findings if f.is_error]
    assert finding.rule == "L3" and "with the files read before it" in finding.message
    assert finding.location.file.endswith("b.yml")


def test_a_text_about_to_be_saved_is_bounded_too(tmp_path):
    path = write(tmp_path / "infra.yml", HEAD)
    finding = only_finding(quickly(lambda: load_infra(path, {path: DEEP_FLOW})))
    assert finding.rule == "L3" and "deeper" in finding.message
    assert parse_yaml(MANY_SCALARS, "x").findings[0].rule == "L3"


@pytest.mark.parametrize("text", [DEEP_FLOW, DEEP_BLOCK, MANY_SCALARS], ids=["flow", "block", "scalars"])
def test_the_edit_forms_refuse_a_hostile_file(tmp_path, text):
    path = write(tmp_path / "infra.yml", text)
    files = read_infra_files(path)
    with pytest.raises(EditRefused, match="cannot be edited"):
        quickly(lambda: files.document(path))


def test_the_edit_forms_do_not_read_a_fifo(tmp_path, fifo):
    path = fifo(tmp_path / "infra.yml")
    with pytest.raises(EditRefused, match="not a regular file"):
        quickly(lambda: read_infra_files(path))


def test_saving_over_a_file_that_became_a_fifo_is_refused_without_blocking(tmp_path, fifo):
    path = write(tmp_path / "infra.yml", HEAD)
    files = read_infra_files(path)
    changes = {path: HEAD.replace("domains: {}", "domains: {a: {subnet_id: 1}}")}
    check = validate_candidate(files, changes, HostContext())
    path.unlink()
    fifo(path)
    with pytest.raises(EditRefused, match="not a regular file"):
        quickly(lambda: save(files, changes, HostContext(), check))


def test_the_tuis_outline_gives_up_on_hostile_input(tmp_path, fifo):
    many_before_domains = "extra: [" + ",".join(["1"] * 2_000_000) + "]\n" + HEAD  # the outline stops after domains
    for i, text in enumerate([DEEP_FLOW, DEEP_BLOCK, many_before_domains]):
        assert quickly(lambda: outline(write(tmp_path / f"{i}.yml", text))) is None  # noqa: B023
    assert quickly(lambda: outline(fifo(tmp_path / "fifo.yml"))) is None
    assert quickly(lambda: outline(Path("/dev/zero"))) is None


def test_safe_load_bounded_refuses_depth_nodes_and_size_and_loads_the_rest():
    for text in (DEEP_FLOW, DEEP_BLOCK, MANY_SCALARS):
        with pytest.raises(UnreadableInput):
            quickly(lambda: safe_load_bounded(text.encode()))  # noqa: B023
    with pytest.raises(UnreadableInput, match="larger than"):
        safe_load_bounded(b"a: 1\n" * 10, limit=20)
    with pytest.raises(yaml.YAMLError):
        safe_load_bounded(b"a: [1\n")
    assert safe_load_bounded(b"name: c1\nconfig: {a: 1}\n") == {"name": "c1", "config": {"a": 1}}


def test_read_bounded_reads_no_more_than_its_bound_plus_one():
    stream = io.BytesIO(b"x" * 100)
    with pytest.raises(UnreadableInput):
        read_bounded(stream, 10)
    assert stream.tell() == 11
