"""The `anklume_incus` connection: Ansible reaches instances through the Incus API, no SSH."""
