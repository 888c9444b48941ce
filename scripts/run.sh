#!/usr/bin/env bash
# Install (first time) and start anklume-tui; arguments go to the program.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/setup.sh"
exec "$here/.venv/bin/anklume-tui" "$@"
