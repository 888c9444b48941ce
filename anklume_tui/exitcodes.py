"""Exit codes of CLI.md."""

OK = 0
FAILED = 1
INVALID = 2  # usage error or invalid infra
UNREACHABLE = 3  # Incus unreachable
REFUSED = 4  # protected resource, or a destructive verb without --yes
