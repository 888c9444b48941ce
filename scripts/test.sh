#!/usr/bin/env bash
# Install everything the tests need (Python deps, Incus, tmux, nftables) and run them.
# In CI (CI=true) a missing or broken Incus fails the run; it is never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
if [ "$(id -u)" = 0 ]; then
  scripts/install-incus.sh
elif [ "${CI:-}" = "true" ]; then
  echo "test: CI must run as root to install and start Incus" >&2
  exit 1
fi
.venv/bin/ruff check anklume_tui tests benchmarks
.venv/bin/mypy  # [tool.mypy] in pyproject.toml: anklume_tui, strict for psot and engine.incus
.venv/bin/lint-imports  # [tool.importlinter] in pyproject.toml: the layers of STYLE.md
scripts/check-ansible.sh
# The user guide: its reference pages generated from the code, then built with warnings as errors.
.venv/bin/python scripts/docs_reference.py
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet --site-dir "$(mktemp -d)"
# The cached test images are built once here, not by each test process at the same time.
.venv/bin/python -m tests.image_helpers
# Whole files per process (their tests share set-ups in order; the longest files first, tests/conftest.py
# LONGEST_FIRST, kept by --no-loadscope-reorder: xdist would otherwise hand out the files with most tests first,
# and these have few); each process starts its own daemon. The 30 slowest tests are listed at the end.
exec .venv/bin/pytest -q --numprocesses=auto --maxprocesses=4 --dist=loadfile --no-loadscope-reorder --durations=30 "$@"
