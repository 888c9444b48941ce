"""backup / restore-backup without Incus: refusals that come before any work, and the progress shown on
stderr."""

from __future__ import annotations

import io
import json

from anklume_tui import cli
from anklume_tui.engine.backup.export import Progress
from anklume_tui.engine.incus.backups import written_bytes
from anklume_tui.verbs.progress import StderrProgress
from tests.engine.backup_helpers import KEEP, gpg_key_fixture  # noqa: F401 - the gpg_key fixture

NO_INCUS = ["--incus", "unix:///nonexistent/unix.socket"]  # reaching Incus would exit 3


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_progress_is_silent_for_half_a_second_then_shows_bytes_and_eta():
    log, clock = io.StringIO(), Clock()
    show = StderrProgress(log, clock=clock)
    show(Progress("writing work/work-a", 0, 4 << 20))
    clock.now += 0.4
    show(Progress("writing work/work-a", 1 << 20, 4 << 20))
    assert log.getvalue() == ""
    clock.now += 0.6
    show(Progress("writing work/work-a", 2 << 20, 4 << 20))
    assert log.getvalue() == "writing work/work-a: 2.0 MiB of 4.0 MiB (50%), 2.0 MiB/s, ETA 1 s\n"
    clock.now += 0.5  # a log gets a line every 2 s, and the last one
    show(Progress("writing work/work-a", 3 << 20, 4 << 20))
    show(Progress("writing work/work-a", 4 << 20, 4 << 20))
    assert log.getvalue().splitlines()[-1] == "writing work/work-a: 4.0 MiB of 4.0 MiB (100%), 2.7 MiB/s"
    assert len(log.getvalue().splitlines()) == 2


def test_progress_of_an_unknown_size_on_a_terminal_redraws_one_line():
    term, clock = Terminal(), Clock()
    show = StderrProgress(term, clock=clock)
    show(Progress("exporting work/work-a on the server", 0, None))
    clock.now += 1.0
    show(Progress("exporting work/work-a on the server", 0, None))
    clock.now += 1.0
    show(Progress("exporting work/work-a on the server", 6_000_000, None))
    show.end()
    assert term.getvalue().count("\r") == 2 and term.getvalue().endswith("\n")
    assert "\rexporting work/work-a on the server (1 s)\x1b[K" in term.getvalue()
    assert "\rexporting work/work-a on the server: 5.7 MiB, 2.9 MiB/s\x1b[K\n" in term.getvalue()


def test_incus_progress_text_is_read_as_bytes():
    assert written_bytes("14.45MB (14.21MB/s)") == 14_450_000
    assert written_bytes("512B (1B/s)") == 512
    assert written_bytes("2.00GiB") == 2 << 30
    assert written_bytes("") == 0


def test_replace_without_yes_is_refused_before_anything(capsys, tmp_path):
    archive = tmp_path / "work-a.tar.gz"
    archive.write_bytes(b"whatever")
    code, _, err = run(capsys, "--batch", "restore-backup", str(archive), "--replace", *NO_INCUS)
    assert code == 4 and "re-run with --yes" in err


def test_missing_archive_is_a_usage_error(capsys, tmp_path):
    code, out, err = run(capsys, "--batch", "restore-backup", str(tmp_path / "nowhere.tar.gz"), "--json", *NO_INCUS)
    assert code == 2 and "nowhere.tar.gz: no such file or folder" in err
    assert json.loads(out)["error"].endswith("no such file or folder")


def test_a_new_name_needs_a_single_archive(capsys, tmp_path):
    run_dir = tmp_path / "anklume-backup-20260101-101010"
    run_dir.mkdir()
    entries = [
        {"file": f"work/{n}.tar.gz", "size": 1, "sha256": "0" * 64, "project": "work", "instance": n}
        for n in ("work-a", "work-b")
    ]
    manifest = {"created_at": "x", "tool": "t", "encrypted_to": [], "instances": entries, "infra": None}
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = run(capsys, "--batch", "restore-backup", str(run_dir), "--name", "copy", *NO_INCUS)
    assert code == 2 and "--name needs one archive" in err


def test_unknown_recipient_is_refused_before_anything_is_written(capsys, tmp_path, gpg_key, monkeypatch):
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    infra = tmp_path / "infra.yml"
    infra.write_text(KEEP)
    target = tmp_path / "bk"
    code, _, err = run(
        capsys, "--batch", "backup", "--infra", str(infra), "--dir", str(target), "--recipient", "nobody@nowhere.test",
        *NO_INCUS,
    )  # fmt: skip
    assert code == 2 and "no public key for recipient 'nobody@nowhere.test'" in err
    assert not target.exists()
    code, _, err = run(capsys, "--batch", "backup", "--infra", str(infra), "--recipient", gpg_key, *NO_INCUS)
    assert code == 3  # a known recipient passes: then Incus is asked for
